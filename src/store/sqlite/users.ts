import type { Database } from 'bun:sqlite'
import type { Store, UserRecord } from '../store'
import { bounded, retryBusy, returning, statement, USER } from './database'

export type UserStore = Pick<Store, 'createUser' | 'findCredentials' | 'getUser' | 'searchUsers' | 'existingUserIds'>

export function createUserStore(db: Database): UserStore {
  const q = <T>(sql: string) => statement<T>(db, sql)
  const insertUser = q<UserRecord>(
    `INSERT INTO users (username, display_name, password_hash, created_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (username) DO NOTHING
     RETURNING id, username, display_name AS displayName, created_at AS createdAt`,
  )
  const credentials = q<UserRecord & { passwordHash: string }>(
    `SELECT ${USER}, u.password_hash AS passwordHash FROM users u WHERE u.username = ?`,
  )
  const userById = q<UserRecord>(`SELECT ${USER} FROM users u WHERE u.id = ?`)
  // Prefix ranges rather than LIKE, one per index: usernames are stored lower-case; display
  // names have a NOCASE index. The two answers are merged in searchUsers.
  const usersByName = q<UserRecord>(
    `SELECT ${USER} FROM users u WHERE u.username >= ?1 AND u.username < ?2 ORDER BY u.username LIMIT ?3`,
  )
  const usersByDisplayName = q<UserRecord>(
    `SELECT ${USER} FROM users u
     WHERE u.display_name >= ?1 COLLATE NOCASE AND u.display_name < ?2 COLLATE NOCASE
     ORDER BY u.display_name COLLATE NOCASE LIMIT ?3`,
  )

  return {
    async createUser({ username, displayName, passwordHash, now }) {
      return retryBusy(() => returning(insertUser, username, displayName, passwordHash, now))
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
    async searchUsers(prefix, limit) {
      const low = prefix.toLowerCase()
      limit = bounded(limit)
      const bounds = [low, low + '\u{10FFFF}', limit] as const
      const found = new Map<number, UserRecord>()
      for (const user of [...usersByName.all(...bounds), ...usersByDisplayName.all(...bounds)]) found.set(user.id, user)
      return [...found.values()].sort((a, b) => (a.username < b.username ? -1 : 1)).slice(0, limit)
    },
    async existingUserIds(ids) {
      if (ids.length === 0) return new Set()
      const rows = db
        .query(`SELECT id FROM users WHERE id IN (${ids.map(() => '?').join(',')})`)
        .all(...ids) as { id: number }[]
      return new Set(rows.map((r) => r.id))
    },
  }
}
