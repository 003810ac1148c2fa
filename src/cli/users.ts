import { AppError } from '../errors'
import type { UserRecord } from '../store/store'
import { linkOrigin, userNamed, withAdmin } from './accounts'
import { CliError, type CommandSpec } from './command'

/** `chat-server users ...`: the accounts of a database, also while a server runs on it. */

const ACCOUNT_SETTINGS = ['databasePath', 'databaseUrl']
const PAGE = 200

/**
 * A name as a terminal shows it safely: control characters (escape sequences, line breaks) and
 * bidi overrides written as \u escapes, so no display name can rewrite the admin's screen.
 */
const printable = (text: string) => text.replace(/[\p{Cc}\u202a-\u202e\u2066-\u2069]/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)

const status = (user: UserRecord) => (user.deactivatedAt === null ? 'active' : 'deactivated')
const described = (user: UserRecord) => `${user.username} (id ${user.id}, ${user.role})`

/** 128 random bits, as letters and digits: typed once, then changed by its owner. */
const generatedPassword = () => Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64url')

const list: CommandSpec = {
  path: ['users', 'list'],
  args: [],
  flags: [],
  settings: ACCOUNT_SETTINGS,
  summary: 'Lists every account, deactivated ones too, by id',
  details: ['One line per account after a header: id, username, role, status, display name.'],
  async run({ config }) {
    const users = await withAdmin(config, { create: false }, async (admin) => {
      const all: UserRecord[] = []
      for (;;) {
        const page = await admin.listUsers({ afterId: all.at(-1)?.id ?? 0, limit: PAGE })
        all.push(...page)
        if (page.length < PAGE) return all
      }
    })
    const rows = [['id', 'username', 'role', 'status', 'display name'], ...users.map((u) => [String(u.id), u.username, u.role, status(u), printable(u.displayName)])]
    const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)))
    return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  '))
  },
}

const add: CommandSpec = {
  path: ['users', 'add'],
  args: ['NAME'],
  flags: [
    { name: 'admin', help: 'make an admin (the first account of a database is one anyway)' },
    { name: 'display-name', value: 'X', help: 'the name others see (default: NAME)' },
    { name: 'password-stdin', help: 'read the password from the first line of standard input' },
  ],
  settings: ACCOUNT_SETTINGS,
  summary: 'Creates an account, also when registration is closed',
  details: [
    'Without --password-stdin, prints a generated password (the last word of the line); the',
    'user can change it once signed in. Creates the database when there is none yet.',
  ],
  async run({ args, flags, config, io }) {
    let password = generatedPassword()
    const given = flags.has('password-stdin')
    if (given) {
      const line = await io.readLine()
      if (line === null || line === '') throw new CliError('--password-stdin: no password on standard input')
      password = line
    }
    const user = await withAdmin(config, { create: true }, (admin) =>
      admin.createUser({ username: args.NAME!, password, role: flags.has('admin') ? 'admin' : 'member', displayName: flags.get('display-name') }).catch((error) => {
        if (error instanceof AppError && error.code === 'conflict') throw new CliError(`a user named ${JSON.stringify(args.NAME!.trim().toLowerCase())} already exists`)
        throw error
      }),
    )
    return [given ? `created ${described(user)}` : `created ${described(user)}; password: ${password}`]
  },
}

const resetPassword: CommandSpec = {
  path: ['users', 'reset-password'],
  args: ['NAME'],
  flags: [],
  settings: [...ACCOUNT_SETTINGS, 'publicUrl'],
  summary: 'Prints a one-time link, valid 24 h, that sets a new password',
  details: [
    "The link (the last word of the line) starts with PUBLIC_URL, else with the server's own",
    'address from HOST and PORT. The user\'s earlier links stop working.',
  ],
  async run({ args, config }) {
    const { user, reset } = await withAdmin(config, { create: false }, async (admin) => {
      const user = await userNamed(admin, args.NAME!)
      const reset = await admin.createPasswordReset(user.id, linkOrigin(config)).catch((error) => {
        // The service names the API's field (`userId: ...`); here the user has a name.
        if (error instanceof AppError) throw new CliError(`${user.username}: ${error.message.replace(/^userId: /, '')}`)
        throw error
      })
      return { user, reset }
    })
    return [`password reset link for ${user.username} (one use, until ${new Date(reset.expiresAt).toISOString()}): ${reset.url}`]
  },
}

/** activate, deactivate, promote: one change of one account, refused with one line. */
function change(word: string, summary: string, details: string[], apply: 'activate' | 'deactivate' | 'promote'): CommandSpec {
  return {
    path: ['users', word],
    args: ['NAME'],
    flags: [],
    settings: ACCOUNT_SETTINGS,
    summary,
    details,
    async run({ args, config }) {
      return withAdmin(config, { create: false }, async (admin) => {
        const user = await userNamed(admin, args.NAME!)
        const lastAdmin = (error: unknown) => {
          if (error instanceof AppError && error.code === 'conflict') throw new CliError(`${user.username} is the last active admin: promote another account first`)
          throw error
        }
        if (apply === 'promote') {
          if (user.role === 'admin') return [`${described(user)} is already an admin`]
          return [`promoted ${described(await admin.setRole(user.id, 'admin'))}`]
        }
        const deactivate = apply === 'deactivate'
        if ((user.deactivatedAt !== null) === deactivate) return [`${described(user)} is already ${status(user)}`]
        return [`${apply}d ${described(await admin.setDeactivated(user.id, deactivate).catch(lastAdmin))}`]
      })
    },
  }
}

export const usersCommands: CommandSpec[] = [
  list,
  add,
  resetPassword,
  change('deactivate', 'Deactivates an account: its sessions, tokens and streams end', [
    'A running server ends them within a second. Their messages stay. The last active admin',
    'cannot be deactivated.',
  ], 'deactivate'),
  change('activate', 'Reactivates a deactivated account: it can sign in again', [], 'activate'),
  change('promote', 'Makes an account an admin', ['A bot stays a bot.'], 'promote'),
]
