import { INVITE_DEFAULT_HOURS } from '../modules/admin/service'
import { linkOrigin, withAdmin } from './accounts'
import { usageError, type CommandSpec } from './command'

const MAX_HOURS = 8760
const MAX_USES = 1_000_000

/** A whole number in 1..max given to `flag`, else a usage error naming it. */
function count(flag: string, raw: string | undefined, max: number): number | undefined {
  if (raw === undefined) return undefined
  const n = /^\d+$/.test(raw) ? Number(raw) : NaN
  if (!(n >= 1 && n <= max)) throw usageError(`invalid --${flag}=${JSON.stringify(raw)}: expected an integer 1-${max}`)
  return n
}

/** `chat-server invite`: a join link that works while registration is closed. */
export const inviteCommand: CommandSpec = {
  path: ['invite'],
  args: [],
  flags: [
    { name: 'hours', value: 'N', help: `hours the link works (default ${INVITE_DEFAULT_HOURS}, 7 days)` },
    { name: 'uses', value: 'N', help: 'accounts it can make (default: unlimited)' },
  ],
  settings: ['databasePath', 'databaseUrl', 'publicUrl'],
  summary: 'Prints an invite link: registration with it works even when registration is closed',
  details: ["The link (the last word of the line) starts with PUBLIC_URL, else with the server's own address from HOST and PORT."],
  async run({ flags, config }) {
    const expiresInHours = count('hours', flags.get('hours'), MAX_HOURS)
    const maxUses = count('uses', flags.get('uses'), MAX_USES)
    const invite = await withAdmin(config, { create: false }, (admin) => admin.createInvite({ expiresInHours, maxUses }, linkOrigin(config)))
    const uses = invite.maxUses === null ? 'unlimited uses' : `${invite.maxUses} use${invite.maxUses === 1 ? '' : 's'}`
    return [`invite link (${uses}, until ${new Date(invite.expiresAt).toISOString()}): ${invite.url}`]
  },
}
