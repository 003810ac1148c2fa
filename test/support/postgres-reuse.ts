/**
 * One PostgreSQL database for the many small tests of a file, emptied before each use: a new
 * database and its migration cost ~300 ms (more under load), a TRUNCATE of every table ~20 ms.
 * For store contract runs, whose tests each want an empty store; a test of concurrency or of the
 * schema itself still makes its own with createTestDatabase.
 */
import { afterAll } from 'bun:test'
import { SQL } from 'bun'
import { createTestDatabase, type TestDatabase } from './postgres'

export interface ReusedDatabase {
  /** The database, emptied: no rows, identities and the event counter back at their start. */
  empty(): Promise<string>
}

/** Call at a test file's top level: the database is dropped after the file's tests. */
export function reusedDatabase(label: string): ReusedDatabase {
  let database: Promise<TestDatabase> | undefined
  afterAll(async () => {
    if (database) await (await database).drop()
  })
  return {
    async empty() {
      const fresh = database === undefined
      database ??= createTestDatabase(label)
      const { url } = await database
      if (!fresh) await emptyTables(url)
      return url
    },
  }
}

/** Every table but the schema's version, emptied; the event counter back at 0. */
async function emptyTables(url: string): Promise<void> {
  const sql = new SQL(url, { max: 1 })
  try {
    const tables: { name: string }[] = await sql`
      SELECT tablename AS name FROM pg_tables WHERE schemaname = 'public' AND tablename NOT IN ('chat_schema', 'event_sequence')`
    if (tables.length > 0) await sql.unsafe(`TRUNCATE ${tables.map((t) => `"${t.name}"`).join(', ')} RESTART IDENTITY CASCADE`)
    await sql`UPDATE event_sequence SET last_id = 0`
  } finally {
    await sql.close({ timeout: 1 })
  }
}
