/**
 * The fresh database each measured server gets: a SQLite file in the bench's work folder, or a
 * PostgreSQL database of its own on the machine's server (test/support/postgres.ts makes and
 * drops it), dropped once the scenario is done. Every PostgreSQL database still alive is
 * remembered, so an interrupted run drops them too.
 */
import { SQL } from 'bun'
import { join } from 'node:path'
import { POSTGRES_ADMIN_URL, createTestDatabase } from '../test/support/postgres'
import type { StoreName } from './targets/target'

export interface BenchDatabase {
  /** What a seed and the in-process timings open: the file's path, or the postgres:// URL. */
  location: string
  /** The server's environment for it. */
  env: Record<string, string>
  drop(): Promise<void>
}

const alive = new Set<BenchDatabase>()

export async function createDatabase(store: StoreName, workDir: string, label: string): Promise<BenchDatabase> {
  const path = join(workDir, `${label}.db`)
  if (store === 'sqlite') return { location: path, env: { DATABASE_PATH: path }, drop: async () => {} }
  const created = await createTestDatabase(`bench_${label}`)
  const database: BenchDatabase = {
    location: created.url,
    // DATABASE_PATH only places the files folder beside it, inside the work folder.
    env: { DATABASE_URL: created.url, DATABASE_PATH: path },
    async drop() {
      alive.delete(database)
      await created.drop()
    },
  }
  alive.add(database)
  return database
}

/** Drops every PostgreSQL database this run made and has not dropped yet. */
export async function dropAll(): Promise<void> {
  await Promise.allSettled([...alive].map(database => database.drop()))
}

/** Whether a PostgreSQL server answers at the address the test suite uses; why not, when it does not. */
export async function postgresAnswers(): Promise<{ ok: true } | { ok: false; reason: string }> {
  const sql = new SQL(POSTGRES_ADMIN_URL, { max: 1, connectionTimeout: 3 })
  try {
    await sql`SELECT 1`
    return { ok: true }
  } catch (error) {
    return { ok: false, reason: `no PostgreSQL answers at ${POSTGRES_ADMIN_URL} (${(error as Error).message}; set TEST_POSTGRES_URL)` }
  } finally {
    await sql.close({ timeout: 0 }).catch(() => {})
  }
}
