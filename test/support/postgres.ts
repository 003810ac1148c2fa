/**
 * A PostgreSQL database of the test's own: created on the server at TEST_POSTGRES_URL (default
 * the machine's, postgres on 127.0.0.1:5432) under a unique name, dropped by `drop`. Outside
 * CI, with no server answering, PostgreSQL tests skip with a message; in CI they fail instead
 * (.ci/run installs and starts PostgreSQL).
 */
import { SQL } from 'bun'

export const POSTGRES_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

let available: Promise<boolean> | undefined

/** Whether a PostgreSQL server answers at POSTGRES_ADMIN_URL (asked once per process). */
export function postgresAvailable(): Promise<boolean> {
  available ??= (async () => {
    const sql = new SQL(POSTGRES_ADMIN_URL, { max: 1, connectionTimeout: 3 })
    try {
      await sql`SELECT 1`
      return true
    } catch (error) {
      if (process.env.CI === 'true') throw new Error(`CI: no PostgreSQL answers at ${POSTGRES_ADMIN_URL} (${String(error)})`)
      console.warn(`[postgres] skipping PostgreSQL tests: no server answers at ${POSTGRES_ADMIN_URL} (set TEST_POSTGRES_URL)`)
      return false
    } finally {
      await sql.close({ timeout: 0 }).catch(() => {})
    }
  })()
  return available
}

/** True when PostgreSQL tests must skip (never in CI, where a missing server is a failure). */
export const skipWithoutPostgres = async () => !(await postgresAvailable())

export interface TestDatabase {
  url: string
  name: string
  drop(): Promise<void>
}

let counter = 0

/** A new, empty database; `drop` ends its connections and removes it. */
export async function createTestDatabase(label = 'test'): Promise<TestDatabase> {
  const name = `chat_${label.replace(/\W/g, '_')}_${process.pid}_${Date.now().toString(36)}_${++counter}`.toLowerCase()
  const admin = new SQL(POSTGRES_ADMIN_URL, { max: 1 })
  try {
    await admin.unsafe(`CREATE DATABASE "${name}"`)
  } finally {
    await admin.close({ timeout: 1 })
  }
  const url = new URL(POSTGRES_ADMIN_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    name,
    async drop() {
      const sql = new SQL(POSTGRES_ADMIN_URL, { max: 1 })
      try {
        await sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)
      } finally {
        await sql.close({ timeout: 1 })
      }
    },
  }
}
