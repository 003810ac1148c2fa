/**
 * A PostgreSQL database of the test's own: created on the server at TEST_POSTGRES_URL (default
 * the machine's, postgres on 127.0.0.1:5432) under a unique name, dropped by `drop`. Outside
 * CI, with no server answering, PostgreSQL tests skip with a message; in CI they fail instead
 * (.ci/run installs and starts PostgreSQL).
 *
 * With CHAT_TEST_STORE=postgres, servers under test (test/helpers.ts, server-process.ts,
 * cluster.ts) run on the PostgreSQL store: `serverDatabase` gives each SQLite path they would
 * have used a database of its own, so servers a test starts on one path share one database as
 * they would share the file.
 */
import { SQL } from 'bun'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'

export const POSTGRES_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres'

/** The store servers under test use: CHAT_TEST_STORE=postgres or (unset) sqlite. */
export const TEST_STORE = ((value) => {
  if (value === undefined || value === '' || value === 'sqlite') return 'sqlite' as const
  if (value === 'postgres') return 'postgres' as const
  throw new Error(`CHAT_TEST_STORE=${JSON.stringify(value)}: expected postgres or sqlite`)
})(process.env.CHAT_TEST_STORE)

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

/**
 * Every test database is named chat_test_<label>_<pid>_<ms since epoch, base 36>_<n>: the
 * prefix says a test made it, the pid and time let `dropLeftoverTestDatabases` tell one whose
 * process is gone (a crashed run) from one in use. PostgreSQL cuts names at 63 bytes, so the
 * label is cut first. The sweep also knows the names made before the `test_` prefix.
 */
const PREFIX = 'chat_test_'
const TEST_DATABASE_NAME = /^chat_(?:[a-z0-9_]*_)?(\d{1,10})_([0-9a-z]{8,9})_(\d+)$/

let counter = 0

/** A new, empty database; `drop` ends its connections and removes it. */
export async function createTestDatabase(label = 'db'): Promise<TestDatabase> {
  const tag = label.toLowerCase().replace(/\W/g, '_').slice(0, 20)
  const name = `${PREFIX}${tag}_${process.pid}_${Date.now().toString(36)}_${++counter}`
  await onServer((sql) => sql.unsafe(`CREATE DATABASE "${name}"`))
  const url = new URL(POSTGRES_ADMIN_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    name,
    drop: () => onServer((sql) => sql.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)),
  }
}

/** One short-lived admin connection for one piece of work. */
async function onServer<T>(work: (sql: SQL) => Promise<T>): Promise<T> {
  const sql = new SQL(POSTGRES_ADMIN_URL, { max: 1 })
  try {
    return await work(sql)
  } finally {
    await sql.close({ timeout: 1 })
  }
}

export interface ServerDatabase {
  url: string
  /** Says one holder is done; the last one's release drops the database. */
  release(): Promise<void>
}

const serverDatabases = new Map<string, { database: Promise<TestDatabase>; holders: number }>()
let swept: Promise<unknown> | undefined

/**
 * With CHAT_TEST_STORE=postgres, the database for a server that would have used the SQLite file
 * at `databasePath`: new for a new path, the same one for every holder of a path until the
 * last releases it. Undefined on SQLite, and for a path where a file already is: a test that
 * made a SQLite file for its server (an old schema to upgrade) means that file. The first call
 * of a process also drops what crashed runs left (a database of this process is never swept).
 */
export async function serverDatabase(databasePath: string): Promise<ServerDatabase | undefined> {
  if (TEST_STORE !== 'postgres') return undefined
  swept ??= dropLeftoverTestDatabases().catch(() => {})
  await swept
  const key = resolve(databasePath)
  let entry = serverDatabases.get(key)
  if (!entry && existsSync(key)) return undefined
  if (!entry) {
    const database = createTestDatabase('server').catch((error) => {
      throw new Error(`CHAT_TEST_STORE=postgres: no database for the server on ${POSTGRES_ADMIN_URL} (${String(error)})`)
    })
    entry = { database, holders: 0 }
    serverDatabases.set(key, entry)
    // A failed create is not kept: the next server on the path tries again.
    entry.database.catch(() => serverDatabases.delete(key))
  }
  entry.holders++
  const held = entry
  const { url } = await held.database
  let released = false
  return {
    url,
    async release() {
      if (released) return
      released = true
      if (--held.holders > 0) return
      if (serverDatabases.get(key) === held) serverDatabases.delete(key)
      await (await held.database).drop()
    },
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Drops the test databases (by their name's shape) made before `createdBefore` by a process
 * that is gone: what a crashed or killed run left, and a finished run's databases that
 * outlived their servers (a spawned server's, kept in case it restarts). Never one whose
 * process runs (another test run on this machine), nor one somebody is connected to (no
 * FORCE: PostgreSQL refuses). Resolves with the names dropped.
 */
export async function dropLeftoverTestDatabases(createdBefore = Date.now()): Promise<string[]> {
  return onServer(async (sql) => {
    const rows: { datname: string }[] = await sql`SELECT datname FROM pg_database WHERE starts_with(datname, 'chat_')`
    const dropped: string[] = []
    for (const { datname } of rows) {
      const shape = TEST_DATABASE_NAME.exec(datname)
      if (!shape) continue
      const pid = Number(shape[1])
      const createdAt = parseInt(shape[2]!, 36)
      if (createdAt >= createdBefore || createdAt < Date.UTC(2025, 0, 1)) continue
      if (pid === process.pid || alive(pid)) continue
      try {
        await sql.unsafe(`DROP DATABASE IF EXISTS "${datname}"`)
        dropped.push(datname)
      } catch {
        // in use (55006) or dropped meanwhile by another sweep: not ours to force
      }
    }
    return dropped
  })
}
