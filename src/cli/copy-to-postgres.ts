import { filesFolder } from '../files/storage'
import { CliError, usageError, type CommandSpec } from './command'
import { copyToPostgres } from './postgres-copy'

const count = (n: number) => n.toLocaleString('en-US')

/** `chat-server copy-to-postgres`: the move from one host's SQLite file to PostgreSQL. */
export const copyToPostgresCommand: CommandSpec = {
  path: ['copy-to-postgres'],
  args: [],
  flags: [{ name: 'replace-nul', help: 'write U+FFFD for a NUL character in text (PostgreSQL cannot store one), instead of stopping' }],
  settings: ['databasePath', 'databaseUrl', 'filesPath'],
  summary: 'Copies the SQLite database into an empty PostgreSQL database, keeping every id',
  details: [
    'Reads DATABASE_PATH (upgraded to this version first, as the server would; a newer one is',
    'refused) and writes DATABASE_URL, which must hold no users and no messages: migrated, then',
    'filled in one transaction, all or nothing. Ids stay, so sessions, access tokens, invite and',
    'reset links, push subscriptions and stream positions (Last-Event-ID) keep working. Stop the',
    'servers first: what they write after the copy began is not copied. Uploads are not copied:',
    'give the servers on PostgreSQL the same FILES_PATH (a volume every host shares).',
    'Prints the rows copied per table and the time taken.',
  ],
  async run({ flags, config }) {
    if (config.databaseUrl === undefined) throw usageError('copy-to-postgres needs --database-url or DATABASE_URL: the PostgreSQL database to copy into')
    if (config.databasePath === ':memory:') throw new CliError('copy-to-postgres needs a SQLite file (DATABASE_PATH), not :memory:')
    const result = await copyToPostgres({ databasePath: config.databasePath, databaseUrl: config.databaseUrl, replaceNul: flags.has('replace-nul') })
    const width = Math.max(...result.tables.map((t) => t.table.length))
    const seconds = result.ms / 1000
    return [
      `copied ${result.source} into ${result.target}: ${count(result.rows)} rows in ${seconds.toFixed(1)} s (${count(Math.round(result.rows / Math.max(seconds, 0.001)))} rows/s)`,
      ...result.tables.map((t) => `  ${t.table.padEnd(width)}  ${count(t.rows)}`),
      `event ids continue after ${result.lastEventId}`,
      ...(result.nulReplaced > 0 ? [`${count(result.nulReplaced)} text value(s) held a NUL character: written with U+FFFD in its place`] : []),
      `uploads stay in ${filesFolder(config)}: give the servers on PostgreSQL that folder as FILES_PATH (or a copy of it)`,
    ]
  },
}
