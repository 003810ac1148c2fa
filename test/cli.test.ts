// store: sqlite only (the command line on --database-path)
/**
 * The command line (API.md, Administration) as a child process, on the database of a server
 * that runs meanwhile (also a child process): what each command prints and does, seen through
 * the server's HTTP API; each refusal as one line and its exit code; --help.
 */
import { Database } from 'bun:sqlite'
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { call, openStream, tempDir, within } from './helpers'
import { runCli, type CliRun } from './support/cli'
import { createTestDatabase, skipWithoutPostgres } from './support/postgres'
import { findRedisServer, startRedis } from './support/redis-server'
import { spawnServer, type ServerProcess } from './support/server-process'

const PUBLIC_URL = 'https://chat.example.org'
// Each command is a process start (~0.2 s, more on a busy machine); some tests run a dozen.
setDefaultTimeout(30_000)

let server: ServerProcess
let db: string[]

beforeAll(async () => {
  // Registration closed: the command line and invites are the only ways in.
  server = await spawnServer({ env: { ALLOW_REGISTRATION: 'false', PUBLIC_URL, RATE_LIMIT_MESSAGES_PER_MINUTE: '0' } })
  db = ['--database-path', server.dbPath]
})
afterAll(() => server?.stop())

const cli = (args: string[], stdin?: string) => runCli([...args, ...db], { stdin, env: { PUBLIC_URL } })
const login = (username: string, password: string) => call(server.url, '/api/auth/login', { body: { username, password } })
const me = (token: string) => call(server.url, '/api/auth/me', { token })

function succeeded(run: CliRun): string {
  expect(run.stderr).toBe('')
  expect(run.code).toBe(0)
  expect(run.lines).toHaveLength(1)
  return run.lines[0]!
}

function refused(run: CliRun, code: 1 | 2, line: string) {
  expect(run.stdout).toBe('')
  expect(run.stderr).toBe(`chat-server: ${line}\n`)
  expect(run.code).toBe(code)
}

/** `created NAME ...; password: P` -> P */
const passwordOf = (line: string) => line.split(' ').at(-1)!

let alicePassword: string

describe('users add', () => {
  it('makes the first account an admin, prints a generated password, and the server signs it in', async () => {
    const line = succeeded(await cli(['users', 'add', 'alice']))
    expect(line).toMatch(/^created alice \(id \d+, admin\); password: [A-Za-z0-9_-]{22}$/)
    alicePassword = passwordOf(line)
    const signed = await login('alice', alicePassword)
    expect(signed.status).toBe(200)
    expect(signed.body.user).toMatchObject({ username: 'alice', role: 'admin', deactivated: false })
  })

  it('reads the password from standard input with --password-stdin, and takes a display name', async () => {
    const line = succeeded(await cli(['users', 'add', 'Bob', '--display-name', 'Bob B', '--password-stdin'], 'bobs-password\n'))
    expect(line).toMatch(/^created bob \(id \d+, member\)$/)
    const signed = await login('bob', 'bobs-password')
    expect(signed.status).toBe(200)
    expect(signed.body.user).toMatchObject({ username: 'bob', displayName: 'Bob B', role: 'member' })
  })

  it('makes an admin with --admin', async () => {
    expect(succeeded(await cli(['users', 'add', 'dora', '--admin']))).toMatch(/^created dora \(id \d+, admin\); password: /)
  })

  it('refuses a taken name, a bad name, a short password, an empty standard input and a missing NAME', async () => {
    refused(await cli(['users', 'add', 'ALICE']), 1, 'a user named "alice" already exists')
    refused(await cli(['users', 'add', 'x']), 1, 'username: 3-32 characters of a-z, 0-9, _ . -')
    refused(await cli(['users', 'add', 'erin', '--password-stdin'], 'short\n'), 1, 'password: 8-128 characters')
    refused(await cli(['users', 'add', 'erin', '--password-stdin'], ''), 1, '--password-stdin: no password on standard input')
    refused(await cli(['users', 'add']), 2, 'missing NAME (usage: chat-server users add NAME [--admin] [--display-name X] [--password-stdin])')
    refused(await cli(['users', 'add', 'erin', '--display-name']), 2, 'option --display-name needs a value (X)')
    refused(await cli(['users', 'add', 'erin', '--admin=yes']), 2, 'option --admin takes no value')
    expect((await login('erin', 'short')).status).toBe(401)
  })
})

describe('users list', () => {
  it('prints a header and one line per account, deactivated ones too', async () => {
    const run = await cli(['users', 'list'])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.lines[0]).toMatch(/^id\s+username\s+role\s+status\s+display name$/)
    const rows = run.lines.slice(1).map((line) => line.split(/\s{2,}/))
    expect(rows.map((row) => row.slice(1))).toEqual([
      ['alice', 'admin', 'active', 'alice'],
      ['bob', 'member', 'active', 'Bob B'],
      ['dora', 'admin', 'active', 'dora'],
    ])
  })

  it('refuses an argument it does not take and an unknown option', async () => {
    refused(await cli(['users', 'list', 'everyone']), 2, 'unexpected argument "everyone" (usage: chat-server users list)')
    refused(await cli(['users', 'list', '--all']), 2, 'unknown option "--all" (see chat-server users list --help)')
  })
})

describe('users deactivate and activate', () => {
  it("ends a running server's stream of the user within a second, and sign-in; activate lets them back", async () => {
    const bob = await login('bob', 'bobs-password')
    const stream = await openStream(server.url, '/api/chat/stream', bob.body.token)
    try {
      const line = succeeded(await cli(['users', 'deactivate', 'bob']))
      expect(line).toMatch(/^deactivated bob \(id \d+, member\)$/)
      // The server reads the store's revocation log every second, and the command committed
      // before it exited: a second, and a margin for a busy machine.
      await stream.ended(1500)
    } finally {
      stream.close()
    }
    expect((await me(bob.body.token)).status).toBe(401)
    expect((await login('bob', 'bobs-password')).status).toBe(401)
    expect(succeeded(await cli(['users', 'deactivate', 'bob']))).toMatch(/^bob \(id \d+, member\) is already deactivated$/)
    expect((await cli(['users', 'list'])).lines.find((l) => l.includes('bob'))).toMatch(/\bdeactivated\b/)

    expect(succeeded(await cli(['users', 'activate', 'bob']))).toMatch(/^activated bob \(id \d+, member\)$/)
    expect((await login('bob', 'bobs-password')).status).toBe(200)
    expect(succeeded(await cli(['users', 'activate', 'bob']))).toMatch(/^bob \(id \d+, member\) is already active$/)
  })

  it('refuses to deactivate the last active admin', async () => {
    expect(succeeded(await cli(['users', 'deactivate', 'dora']))).toMatch(/^deactivated dora/)
    refused(await cli(['users', 'deactivate', 'alice']), 1, 'alice is the last active admin: promote another account first')
    expect((await login('alice', alicePassword)).status).toBe(200)
    succeeded(await cli(['users', 'activate', 'dora']))
  })
})

describe('users promote', () => {
  it('makes a member an admin, which a running server sees', async () => {
    const bob = await login('bob', 'bobs-password')
    expect(bob.body.user.role).toBe('member')
    expect(succeeded(await cli(['users', 'promote', 'bob']))).toMatch(/^promoted bob \(id \d+, admin\)$/)
    // The admin routes answer the session as it is now, not a cached member.
    const deadline = Date.now() + 1500
    let status = 0
    while (Date.now() < deadline && (status = (await call(server.url, '/api/admin/users', { token: bob.body.token })).status) !== 200) await Bun.sleep(50)
    expect(status).toBe(200)
    expect(succeeded(await cli(['users', 'promote', 'bob']))).toMatch(/^bob \(id \d+, admin\) is already an admin$/)
  })
})

describe('users reset-password', () => {
  it('prints a one-time link under PUBLIC_URL that sets a new password', async () => {
    const line = succeeded(await cli(['users', 'reset-password', 'alice']))
    expect(line).toMatch(new RegExp(`^password reset link for alice \\(one use, until \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\): ${PUBLIC_URL}/reset#[A-Za-z0-9_-]{43}$`))
    const token = line.split('#').at(-1)!
    const reset = await call(server.url, '/api/auth/reset', { body: { token, newPassword: 'alices-new-password' } })
    expect(reset.status).toBe(200)
    expect((await login('alice', 'alices-new-password')).status).toBe(200)
    expect((await call(server.url, '/api/auth/reset', { body: { token, newPassword: 'yet-another-one' } })).status).toBe(400)
  })

  it('refuses a deactivated user in one line', async () => {
    succeeded(await cli(['users', 'add', 'gone']))
    succeeded(await cli(['users', 'deactivate', 'gone']))
    refused(await cli(['users', 'reset-password', 'gone']), 1, 'gone: the user is deactivated: reactivate them first')
  })

  it('uses the address from HOST and PORT without PUBLIC_URL', async () => {
    const run = await runCli(['users', 'reset-password', 'bob', ...db, '--port', '4567'])
    expect(succeeded(run)).toMatch(/: http:\/\/localhost:4567\/reset#[A-Za-z0-9_-]{43}$/)
  })
})

describe('invite', () => {
  it('prints a join link with which one person registers while registration is closed', async () => {
    expect((await call(server.url, '/api/auth/register', { body: { username: 'nobody', password: 'password-123' } })).status).toBe(403)
    const line = succeeded(await cli(['invite', '--uses', '1', '--hours', '2']))
    expect(line).toMatch(new RegExp(`^invite link \\(1 use, until [\\dT:.Z-]+\\): ${PUBLIC_URL}/join#[A-Za-z0-9_-]{43}$`))
    const until = Date.parse(line.match(/until (\S+)\)/)![1]!)
    expect(Math.abs(until - (Date.now() + 2 * 3_600_000))).toBeLessThan(60_000)
    const inviteToken = line.split('#').at(-1)!
    const first = await call(server.url, '/api/auth/register', { body: { username: 'invited', password: 'password-123', inviteToken } })
    expect(first.status).toBe(201)
    const second = await call(server.url, '/api/auth/register', { body: { username: 'invited2', password: 'password-123', inviteToken } })
    expect(second.status).toBe(403)
  })

  it('defaults to 7 days and unlimited uses', async () => {
    const line = succeeded(await cli(['invite']))
    expect(line).toContain('(unlimited uses, until ')
    const until = Date.parse(line.match(/until (\S+)\)/)![1]!)
    expect(Math.abs(until - (Date.now() + 7 * 24 * 3_600_000))).toBeLessThan(60_000)
  })

  it('refuses hours and uses that are not whole numbers in range', async () => {
    refused(await cli(['invite', '--hours', '0']), 2, 'invalid --hours="0": expected an integer 1-8760')
    refused(await cli(['invite', '--uses', 'many']), 2, 'invalid --uses="many": expected an integer 1-1000000')
    refused(await cli(['invite', '--hours']), 2, 'option --hours needs a value (N)')
  })
})

describe('every command', () => {
  const named = [['users', 'reset-password'], ['users', 'deactivate'], ['users', 'activate'], ['users', 'promote']]

  it('refuses an unknown user in one line, exit 1', async () => {
    for (const command of named) refused(await cli([...command, 'nobody']), 1, 'no user named "nobody"')
  })

  it('refuses a missing NAME, a bad flag and a bad setting, exit 2', async () => {
    for (const command of named) {
      refused(await cli(command), 2, `missing NAME (usage: chat-server ${command.join(' ')} NAME)`)
      refused(await cli([...command, 'alice', '--force']), 2, `unknown option "--force" (see chat-server ${command.join(' ')} --help)`)
    }
    refused(await runCli(['users', 'list', '--database-path', server.dbPath, '--port', 'x']), 2, 'invalid --port="x": expected an integer 0-65535')
    refused(await runCli(['users', 'list'], { env: { DATABASE_PATH: server.dbPath, LOG_LEVEL: 'loud' } }), 2, 'invalid LOG_LEVEL="loud": expected debug, info, warn or error')
  })

  it('refuses a database that is not there (except users add, which makes it)', async () => {
    const folder = tempDir()
    const path = join(folder, 'none.db')
    for (const args of [['users', 'list'], ['users', 'promote', 'alice'], ['invite']]) {
      refused(await runCli([...args, '--database-path', path]), 1, `no database at ${path} (set DATABASE_PATH or --database-path)`)
    }
    expect(existsSync(path)).toBe(false)
    const fresh = join(folder, 'fresh', 'chat.db')
    expect(succeeded(await runCli(['users', 'add', 'root', '--database-path', fresh]))).toMatch(/^created root \(id 1, admin\)/)
  })

  it('prints names that hold control characters or bidi overrides as escapes, one line each', async () => {
    succeeded(await cli(['users', 'add', 'eve', '--display-name', 'Eve\u001b[2J\nroot\u202e']))
    const run = await cli(['users', 'list'])
    expect(run.code).toBe(0)
    expect(run.lines.filter((line) => line.includes('eve'))).toEqual([expect.stringMatching(/ Eve\\u001b\[2J\\u000aroot\\u202e$/)])
    expect(run.stdout).not.toContain('\u001b')
  })

  it('refuses a database written by a newer version in one line', async () => {
    const path = join(tempDir(), 'newer.db')
    const newer = new Database(path, { create: true })
    newer.run('PRAGMA user_version = 999')
    newer.close()
    const run = await runCli(['users', 'list', '--database-path', path])
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/^chat-server: database schema version 999 is newer than this server supports \(\d+\); upgrade the server\n$/)
  })

  it('names the commands of a group, and refuses a group without one', async () => {
    const help = await runCli(['users', '--help'])
    expect(help.code).toBe(0)
    for (const word of ['list', 'add', 'reset-password', 'deactivate', 'activate', 'promote']) expect(help.stdout).toContain(`chat-server users ${word}`)
    refused(await runCli(['users']), 2, 'users needs a command: list, add, reset-password, deactivate, activate, promote (see chat-server users --help)')
    refused(await runCli(['users', 'remove', 'bob']), 2, 'users needs a command, not "remove": list, add, reset-password, deactivate, activate, promote (see chat-server users --help)')
  })

  it('prints --help for each, exit 0, touching no database', async () => {
    const commands = [['users', 'list'], ['users', 'add'], ...named, ['invite'], ['backup']]
    for (const command of commands) {
      const run = await runCli([...command, '--help'])
      expect(run.stderr).toBe('')
      expect(run.code).toBe(0)
      expect(run.lines[0]).toStartWith(`Usage: chat-server ${command.join(' ')}`)
      expect(run.stdout).toContain('--database-path <value>')
    }
    expect((await runCli(['users', 'add', '--help'])).stdout).toContain('--password-stdin')
    expect((await runCli(['invite', '--help'])).stdout).toContain('--hours N')
    const server = await runCli(['--help'])
    expect(server.code).toBe(0)
    for (const command of commands) expect(server.stdout).toContain(`\n  ${command.join(' ')}`)
  })
})

describe('the commands and the server at once', () => {
  it('work while the server is busy writing', async () => {
    succeeded(await cli(['users', 'add', 'writer', '--password-stdin'], 'writers-password\n'))
    const writer = await login('writer', 'writers-password')
    const room = await call(server.url, '/api/chat/rooms', { token: writer.body.token, body: { name: 'busy' } })
    let posting = true
    let posted = 0
    const poster = (async () => {
      while (posting) {
        const res = await call(server.url, `/api/chat/rooms/${room.body.id}/messages`, { token: writer.body.token, body: { content: 'busy' } })
        expect(res.status).toBe(201)
        posted++
      }
    })()
    try {
      const runs = await within(Promise.all([cli(['users', 'add', 'busy1']), cli(['invite']), cli(['users', 'list'])]), 30_000, 'the commands did not end')
      for (const run of runs) expect(run.code).toBe(0)
    } finally {
      posting = false
      await poster
    }
    expect(posted).toBeGreaterThan(0)
  })
})

describe.skipIf(!findRedisServer())('the commands and several instances (Redis)', () => {
  it("end a deactivated user's streams on every instance within a second", async () => {
    const redis = await startRedis()
    const first = await spawnServer({ env: { REDIS_URL: redis.url } })
    const second = await spawnServer({ dbPath: first.dbPath, env: { REDIS_URL: redis.url } })
    try {
      const args = ['--database-path', first.dbPath]
      // The command line talks to no Redis: with the servers' environment, it still only writes the database.
      const env = { REDIS_URL: redis.url }
      succeeded(await runCli(['users', 'add', 'root', ...args], { env }))
      succeeded(await runCli(['users', 'add', 'frank', '--password-stdin', ...args], { env, stdin: 'franks-password\n' }))
      const signIn = (s: ServerProcess) => call(s.url, '/api/auth/login', { body: { username: 'frank', password: 'franks-password' } })
      const streams = [
        await openStream(first.url, '/api/chat/stream', (await signIn(first)).body.token),
        await openStream(second.url, '/api/chat/stream', (await signIn(second)).body.token),
      ]
      try {
        succeeded(await runCli(['users', 'deactivate', 'frank', ...args], { env }))
        await Promise.all(streams.map((stream) => stream.ended(1500)))
      } finally {
        for (const stream of streams) stream.close()
      }
      expect((await signIn(second)).status).toBe(401)
    } finally {
      await Promise.allSettled([first.stop(), second.stop()])
      await redis.stop()
    }
  }, 60_000)
})

describe('copy-to-postgres --help', () => {
  it('says what it copies, into what, and names its settings, touching no database', async () => {
    const run = await runCli(['copy-to-postgres', '--help'])
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.lines[0]).toBe('Usage: chat-server copy-to-postgres [--replace-nul] [settings]')
    for (const text of ['--database-path <value>', '--database-url <value>', '--files-path <value>', 'empty', 'one transaction', 'Last-Event-ID']) expect(run.stdout).toContain(text)
    expect((await runCli(['--help'])).stdout).toContain('\n  copy-to-postgres')
  })
})

const noPostgres = await skipWithoutPostgres()

describe.skipIf(noPostgres)('the commands on PostgreSQL (--database-url)', () => {
  it("add, list, invite and deactivate on the database a server on PostgreSQL serves; backup names pg_dump", async () => {
    const database = await createTestDatabase('cli')
    const pg = await spawnServer({ env: { DATABASE_URL: database.url, ALLOW_REGISTRATION: 'false', PUBLIC_URL } })
    try {
      const on = ['--database-url', database.url]
      expect(succeeded(await runCli(['users', 'add', 'root', ...on]))).toMatch(/^created root \(id 1, admin\); password: [A-Za-z0-9_-]{22}$/)
      succeeded(await runCli(['users', 'add', 'pat', '--password-stdin', ...on], { stdin: 'pats-password\n' }))
      const signIn = () => call(pg.url, '/api/auth/login', { body: { username: 'pat', password: 'pats-password' } })
      const pat = await signIn()
      expect(pat.status).toBe(200)
      // DATABASE_URL from the environment does the same as the flag.
      const list = await runCli(['users', 'list'], { env: { DATABASE_URL: database.url } })
      expect(list.code).toBe(0)
      expect(list.lines.slice(1).map((line) => line.split(/\s{2,}/).slice(1))).toEqual([
        ['root', 'admin', 'active', 'root'],
        ['pat', 'member', 'active', 'pat'],
      ])

      const invite = succeeded(await runCli(['invite', '--uses', '1', ...on], { env: { PUBLIC_URL } }))
      const inviteToken = invite.split('#').at(-1)!
      expect((await call(pg.url, '/api/auth/register', { body: { username: 'quinn', password: 'password-123', inviteToken } })).status).toBe(201)

      const stream = await openStream(pg.url, '/api/chat/stream', pat.body.token)
      try {
        expect(succeeded(await runCli(['users', 'deactivate', 'pat', ...on]))).toMatch(/^deactivated pat \(id 2, member\)$/)
        // The server reads the revocation log in PostgreSQL, as it does in the SQLite file.
        await stream.ended(1500)
      } finally {
        stream.close()
      }
      expect((await signIn()).status).toBe(401)
      refused(await runCli(['users', 'deactivate', 'root', ...on]), 1, 'root is the last active admin: promote another account first')

      refused(await runCli(['backup', join(tempDir(), 'copy.db'), ...on]), 1, 'backup copies the SQLite file only: with DATABASE_URL set, back up PostgreSQL with pg_dump (and FILES_PATH with any file copy)')
    } finally {
      await pg.stop()
      await database.drop()
    }
  })

  it('refuses in one line when PostgreSQL does not answer', async () => {
    const run = await runCli(['users', 'list', '--database-url', 'postgres://postgres@127.0.0.1:1/none', '--database-timeout-ms', '2000'])
    expect(run.stdout).toBe('')
    expect(run.code).toBe(1)
    expect(run.stderr).toMatch(/^chat-server: the database (is unavailable|did not answer)[^\n]*\n$/)
  })
})
