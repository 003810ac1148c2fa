/**
 * Test support for accounts (issue 12): signing in, a second process's view of a server's
 * database (what the command line does: the store and the admin service on the same file), and
 * editing that file directly for what cannot be waited for (an expiry a day away).
 */
import { Database } from 'bun:sqlite'
import { createMemoryBus } from '../../src/bus/memory'
import { createAdminService, type AdminService } from '../../src/modules/admin/service'
import { createAuthService } from '../../src/modules/auth/service'
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
  close(): void
}

/**
 * The database of a running server opened as a second writer, with the services the command
 * line uses: its changes reach the server only through the file.
 */
export function openAsOtherProcess(databasePath: string): OtherProcess {
  const store = createSqliteStore(databasePath)
  const bus = createMemoryBus()
  const auth = createAuthService({ store, bus, allowRegistration: true, authAttemptsPerMinute: 0, sessionTtlDays: 30, cacheSessions: false })
  return { store, admin: createAdminService({ store, auth }), close: () => store.close() }
}

/** Runs one SQL statement on the database file (a second connection), e.g. to age a row. */
export function onDatabase(databasePath: string, sql: string, ...params: (string | number | null)[]) {
  const db = new Database(databasePath)
  try {
    db.run('PRAGMA busy_timeout = 5000')
    db.query(sql).run(...params)
  } finally {
    db.close()
  }
}
