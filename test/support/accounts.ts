/**
 * Test support for accounts (issue 12): signing in, a second process's view of a server's
 * database (what the command line does: the store and the admin service on the same database),
 * and editing that database directly for what cannot be waited for (an expiry a day away). Both
 * stores: the SQLite file, or the PostgreSQL database when the server's config has databaseUrl.
 */
import { SQL } from 'bun'
import { Database } from 'bun:sqlite'
import { createMemoryBus } from '../../src/bus/memory'
import { createAdminService, type AdminService } from '../../src/modules/admin/service'
import { createAuthService } from '../../src/modules/auth/service'
import { createPostgresStore } from '../../src/store/postgres'
import { createSqliteStore } from '../../src/store/sqlite'
import type { Store } from '../../src/store/store'
import { call, newUser, type TestUser } from '../helpers'

export const PASSWORD = 'password-123'

export async function login(url: string, username: string, password = PASSWORD) {
  return call(url, '/api/auth/login', { body: { username, password } })
}

/** Signs in again as `user`: another session of the same account. */
export async function anotherSession(url: string, user: TestUser): Promise<TestUser> {
  const res = await login(url, user.username)
  if (res.status !== 200) throw new Error(`login ${user.username}: ${res.status} ${JSON.stringify(res.body)}`)
  return { ...user, token: res.body.token }
}

/** A fresh server's admin (its first account) and a member. */
export async function adminAndMember(url: string, prefix: string) {
  const admin = await newUser(url, `${prefix}admin`)
  const member = await newUser(url, `${prefix}member`)
  return { admin, member }
}

export async function createToken(url: string, user: TestUser, body: { name: string; expiresInDays?: number } = { name: 'script' }) {
  const res = await call(url, '/api/auth/tokens', { token: user.token, body })
  if (res.status !== 201) throw new Error(`create token: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body as { id: number; token: string; [k: string]: any }
}

export async function setUser(url: string, admin: TestUser, userId: number, change: { role?: string; deactivated?: boolean }) {
  return call(url, `/api/admin/users/${userId}`, { method: 'PATCH', token: admin.token, body: change })
}

export interface OtherProcess {
  store: Store
  admin: AdminService
  close(): Promise<void>
}

/** Where a server keeps its accounts: the SQLite file, or the PostgreSQL database when databaseUrl is set. */
export interface DatabaseOf {
  databasePath: string
  databaseUrl?: string
}

/**
 * The database of a running server opened as a second writer, with the services the command
 * line uses: its changes reach the server only through the database. On PostgreSQL that is
 * another store (its own pool) on the same database, exactly what another host is.
 */
export async function openAsOtherProcess(config: DatabaseOf): Promise<OtherProcess> {
  const store = config.databaseUrl === undefined ? createSqliteStore(config.databasePath) : await createPostgresStore({ url: config.databaseUrl })
  const bus = createMemoryBus()
  const auth = createAuthService({ store, bus, allowRegistration: true, authAttemptsPerMinute: 0, sessionTtlDays: 30, cacheSessions: false })
  return { store, admin: createAdminService({ store, auth }), close: () => store.close() }
}

type Param = string | number | null | Uint8Array

/**
 * Runs one SQL statement on the server's database (a second connection) and returns its rows,
 * e.g. to age a row or to read what is stored. `?` placeholders, in SQL both SQLite and
 * PostgreSQL accept. PostgreSQL gives int8 columns as strings and bytea as a Buffer: convert
 * with Number() where a number is meant.
 */
export async function queryDatabase<Row = Record<string, unknown>>(config: DatabaseOf, sql: string, ...params: Param[]): Promise<Row[]> {
  if (config.databaseUrl === undefined) {
    const db = new Database(config.databasePath)
    try {
      db.run('PRAGMA busy_timeout = 5000')
      return db.query(sql).all(...params) as Row[]
    } finally {
      db.close()
    }
  }
  const pg = new SQL(config.databaseUrl, { max: 1 })
  try {
    return [...((await pg.unsafe(numberedPlaceholders(sql), params)) as Row[])]
  } finally {
    await pg.close({ timeout: 1 })
  }
}

/** Runs one SQL statement on the server's database for its effect (see queryDatabase). */
export async function onDatabase(config: DatabaseOf, sql: string, ...params: Param[]): Promise<void> {
  await queryDatabase(config, sql, ...params)
}

/** `?` placeholders as PostgreSQL's `$1..$n`; a `?` inside a quoted string stays as it is. */
function numberedPlaceholders(sql: string): string {
  let n = 0
  return sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|\?/g, (match) => (match === '?' ? `$${++n}` : match))
}
