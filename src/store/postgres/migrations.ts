import type { SQL } from 'bun'
import { SchemaTooNewError } from '../migrations'
import { ACCOUNTS } from './schema/accounts'
import { CONVERSATIONS } from './schema/conversations'
import { FILES } from './schema/files'
import { INTEGRATIONS } from './schema/integrations'
import { SEARCH } from './schema/search'

/**
 * Numbered schema migrations of the PostgreSQL store. `chat_schema.version` says how many have
 * been applied; start-up applies the rest. Append only: never edit a shipped step. Step 1 is
 * the whole schema as the SQLite store's eight steps left it, written per concern (schema/).
 */
export const MIGRATIONS: readonly string[] = [[ACCOUNTS, CONVERSATIONS, FILES, SEARCH, INTEGRATIONS].join('\n')]

/** Any constant: the advisory lock that makes instances starting together migrate in turn. */
const MIGRATION_LOCK = 7_415_001

/**
 * Brings the schema up to date in one transaction (PostgreSQL's DDL is transactional: a failed
 * step leaves nothing), under an advisory lock, so of several instances starting together one
 * migrates and the others then find it done. Refuses a database written by a newer version.
 */
export async function migrate(sql: SQL): Promise<void> {
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`
    await tx`CREATE TABLE IF NOT EXISTS chat_schema (id int PRIMARY KEY CHECK (id = 1), version int NOT NULL)`
    const [row] = await tx`SELECT version FROM chat_schema`
    const current = row ? Number(row.version) : 0
    if (current > MIGRATIONS.length) {
      throw new SchemaTooNewError(
        `database schema version ${current} is newer than this server supports (${MIGRATIONS.length}); upgrade the server`,
      )
    }
    for (let version = current; version < MIGRATIONS.length; version++) await tx.unsafe(MIGRATIONS[version]!)
    if (current < MIGRATIONS.length) {
      await tx`INSERT INTO chat_schema (id, version) VALUES (1, ${MIGRATIONS.length})
               ON CONFLICT (id) DO UPDATE SET version = excluded.version`
    }
  })
}
