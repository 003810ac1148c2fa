import type { Database } from 'bun:sqlite'
import { InviteUnusableError, type UserRecord } from '../store'
import { bounded, retryBusy, returning, statement, USER } from './database'
import type { InviteWriter } from './invites'
import type { ResetWriter } from './resets'
import type { RevocationWriter } from './revocations'
import type { SessionWriter } from './sessions'
import type { UserStore } from '../parts'

const RETURNING_USER = `RETURNING id, username, display_name AS displayName, created_at AS createdAt, role, deactivated_at AS deactivatedAt`
/** Other active admins than ?1: a demotion or deactivation of ?1 keeps at least one. */
const ANOTHER_ADMIN = `EXISTS (SELECT 1 FROM users o WHERE o.role = 'admin' AND o.deactivated_at IS NULL AND o.id != ?1)`

export function createUserStore(db: Database, parts: { sessions: SessionWriter; resets: ResetWriter; invites: InviteWriter; revocations: RevocationWriter }): UserStore {
  const q = <T>(sql: string) => statement<T>(db, sql)
  // The first account is the admin: decided by the insert itself, which SQLite's one writer
  // runs alone, so two first registrations cannot both see an empty table.
  const insertUser = q<UserRecord>(
    `INSERT INTO users (username, display_name, password_hash, created_at, role, webhook_url)
     VALUES (?1, ?2, ?3, ?4, CASE WHEN ?5 != 'bot' AND NOT EXISTS (SELECT 1 FROM users) THEN 'admin' ELSE ?5 END, ?6)
     ON CONFLICT (username) DO NOTHING ${RETURNING_USER}`,
  )
  const credentials = q<UserRecord & { passwordHash: string }>(
    `SELECT ${USER}, u.password_hash AS passwordHash FROM users u WHERE u.username = ?`,
  )
  const userById = q<UserRecord>(`SELECT ${USER} FROM users u WHERE u.id = ?`)
  const userByName = q<UserRecord>(`SELECT ${USER} FROM users u WHERE u.username = ?`)
  // Prefix ranges rather than LIKE, one per index: usernames are stored lower-case; display
  // names have a NOCASE index. The two answers are merged in searchUsers.
  const usersByName = q<UserRecord>(
    `SELECT ${USER} FROM users u WHERE u.username >= ?1 AND u.username < ?2 AND u.deactivated_at IS NULL ORDER BY u.username LIMIT ?3`,
  )
  const usersByDisplayName = q<UserRecord>(
    `SELECT ${USER} FROM users u
     WHERE u.display_name >= ?1 COLLATE NOCASE AND u.display_name < ?2 COLLATE NOCASE AND u.deactivated_at IS NULL
     ORDER BY u.display_name COLLATE NOCASE LIMIT ?3`,
  )
  const usersById = q<UserRecord>(
    `SELECT ${USER} FROM users u
     WHERE u.id > ?1 AND (?2 = '' OR (u.username >= ?2 AND u.username < ?3)
       OR (u.display_name >= ?2 COLLATE NOCASE AND u.display_name < ?3 COLLATE NOCASE))
     ORDER BY u.id LIMIT ?4`,
  )
  const setName = q<UserRecord>(`UPDATE users SET display_name = ? WHERE id = ? ${RETURNING_USER}`)
  const setRole = q<UserRecord>(
    `UPDATE users SET role = ?2 WHERE id = ?1 AND role != 'bot'
     AND (?2 = 'admin' OR role != 'admin' OR deactivated_at IS NOT NULL OR ${ANOTHER_ADMIN}) ${RETURNING_USER}`,
  )
  const deactivate = q<UserRecord>(
    `UPDATE users SET deactivated_at = coalesce(deactivated_at, ?2)
     WHERE id = ?1 AND (role != 'admin' OR deactivated_at IS NOT NULL OR ${ANOTHER_ADMIN}) ${RETURNING_USER}`,
  )
  const reactivate = q<UserRecord>(`UPDATE users SET deactivated_at = NULL WHERE id = ?1 ${RETURNING_USER}`)
  const exists = q<{ one: number }>(`SELECT 1 AS one FROM users WHERE id = ?`)
  const setHash = q(`UPDATE users SET password_hash = ? WHERE id = ?`)

  /** Why an update of `userId` changed no row. */
  const refusal = (userId: number) => (exists.get(userId) ? ('last-admin' as const) : ('missing' as const))

  const createUserTx = db.transaction(
    (username: string, displayName: string, passwordHash: string, now: number, role: string, inviteToken: string | undefined) => {
      // The use is taken first and rolled back with the insert when the name is taken.
      if (inviteToken !== undefined && !parts.invites.take(inviteToken, now)) throw new InviteUnusableError()
      const user = returning(insertUser, username, displayName, passwordHash, now, role, null)
      if (!user && inviteToken !== undefined) throw new NameTaken()
      return user
    },
  )
  const setWebhookSecret = q(`UPDATE users SET webhook_secret = ? WHERE id = ?`)
  const createBotTx = db.transaction((username: string, displayName: string, webhookUrl: string | null, tokenHash: Uint8Array, now: number, webhookSecret: string | null) => {
    // A bot has no password: an empty hash matches none (login also refuses bots outright).
    const user = returning(insertUser, username, displayName, '', now, 'bot', webhookUrl)
    if (user) parts.sessions.create({ userId: user.id, tokenHash, now, expiresAt: null, kind: 'token', name: 'bot' })
    if (user && webhookSecret !== null) setWebhookSecret.run(webhookSecret, user.id)
    return user
  })
  const deactivateTx = db.transaction((userId: number, now: number) => {
    const user = returning(deactivate, userId, now)
    if (!user) return refusal(userId)
    const endedSessionIds = parts.sessions.endAll(userId, null)
    parts.resets.drop(userId)
    parts.revocations.record(userId, endedSessionIds, now)
    parts.revocations.record(userId, null, now)
    return { user, endedSessionIds }
  })
  const reactivateTx = db.transaction((userId: number, now: number) => {
    const user = returning(reactivate, userId)
    if (!user) return 'missing' as const
    parts.revocations.record(userId, null, now)
    return { user, endedSessionIds: [] }
  })
  const setRoleTx = db.transaction((userId: number, role: string, now: number) => {
    const user = returning(setRole, userId, role)
    // No row changed: no such user, a bot (whose role stays), or the last active admin.
    if (!user) return userById.get(userId)?.role === 'admin' ? ('last-admin' as const) : ('missing' as const)
    parts.revocations.record(userId, null, now)
    return user
  })
  const setNameTx = db.transaction((userId: number, displayName: string, now: number) => {
    const user = returning(setName, displayName, userId)
    if (user) parts.revocations.record(userId, null, now)
    return user
  })
  const setPasswordTx = db.transaction((userId: number, passwordHash: string, keep: number | null, now: number) => {
    setHash.run(passwordHash, userId)
    const ended = parts.sessions.endAll(userId, keep, 'session')
    parts.resets.drop(userId)
    parts.revocations.record(userId, ended, now)
    return ended
  })

  return {
    async createUser({ username, displayName, passwordHash, now, role = 'member', inviteToken }) {
      try {
        return await retryBusy(() => createUserTx.immediate(username, displayName, passwordHash, now, role, inviteToken))
      } catch (error) {
        if (error instanceof NameTaken) return null
        throw error
      }
    },
    async createBot({ username, displayName, webhookUrl, webhookSecret = null, tokenHash, now }) {
      return retryBusy(() => createBotTx.immediate(username, displayName, webhookUrl, tokenHash, now, webhookSecret))
    },
    async findCredentials(username) {
      const row = credentials.get(username)
      if (!row) return null
      const { passwordHash, ...user } = row
      return { user, passwordHash }
    },
    async getUser(id) {
      return userById.get(id)
    },
    async findUserByUsername(username) {
      return userByName.get(username)
    },
    async searchUsers(prefix, limit) {
      const low = prefix.toLowerCase()
      limit = bounded(limit)
      const bounds = [low, low + '\u{10FFFF}', limit] as const
      const found = new Map<number, UserRecord>()
      for (const user of [...usersByName.all(...bounds), ...usersByDisplayName.all(...bounds)]) found.set(user.id, user)
      return [...found.values()].sort((a, b) => (a.username < b.username ? -1 : 1)).slice(0, limit)
    },
    async listUsers({ prefix, afterId, limit }) {
      const low = prefix.toLowerCase()
      return usersById.all(afterId, low, low + '\u{10FFFF}', bounded(limit))
    },
    async activeUserIds(ids) {
      if (ids.length === 0) return new Set()
      const rows = db
        .query(`SELECT id FROM users WHERE deactivated_at IS NULL AND id IN (${ids.map(() => '?').join(',')})`)
        .all(...ids) as { id: number }[]
      return new Set(rows.map((r) => r.id))
    },
    async updateDisplayName(userId, displayName, now) {
      return retryBusy(() => setNameTx.immediate(userId, displayName, now))
    },
    async setRole(userId, role, now) {
      return retryBusy(() => setRoleTx.immediate(userId, role, now))
    },
    async setDeactivated(userId, deactivated, now) {
      return retryBusy(() => (deactivated ? deactivateTx : reactivateTx).immediate(userId, now))
    },
    async setPassword(userId, passwordHash, keepSessionId, now) {
      return retryBusy(() => setPasswordTx.immediate(userId, passwordHash, keepSessionId, now))
    },
  }
}

/** Rolls back an invite's use when the username turned out taken. */
class NameTaken extends Error {}
