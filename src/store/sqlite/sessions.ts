import type { Database } from 'bun:sqlite'
import type { Store, UserRecord } from '../store'
import { retryBusy, returning, statement, USER } from './database'

export type SessionStore = Pick<Store, 'createSession' | 'findSession' | 'extendSession' | 'deleteSession' | 'sessionAlive'>

export function createSessionStore(db: Database): SessionStore {
  const q = <T>(sql: string) => statement<T>(db, sql)
  const insertSession = q<{ id: number }>(
    `INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?) RETURNING id`,
  )
  const sessionByHash = q<UserRecord & { sessionId: number; expiresAt: number }>(
    `SELECT s.id AS sessionId, s.expires_at AS expiresAt, ${USER}
     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND s.expires_at > ?`,
  )
  const extendSession = q(`UPDATE sessions SET expires_at = ? WHERE id = ?`)
  const deleteSession = q(`DELETE FROM sessions WHERE id = ?`)
  const sessionAlive = q<{ one: number }>(`SELECT 1 AS one FROM sessions WHERE id = ? AND expires_at > ?`)

  return {
    async createSession({ userId, tokenHash, now, expiresAt }) {
      return retryBusy(() => returning(insertSession, tokenHash, userId, now, expiresAt)!.id)
    },
    async findSession(tokenHash, now) {
      const row = sessionByHash.get(tokenHash, now)
      if (!row) return null
      const { sessionId, expiresAt, ...user } = row
      return { id: sessionId, user, expiresAt }
    },
    async extendSession(sessionId, expiresAt) {
      await retryBusy(() => extendSession.run(expiresAt, sessionId))
    },
    async deleteSession(sessionId) {
      await retryBusy(() => deleteSession.run(sessionId))
    },
    async sessionAlive(sessionId, now) {
      return sessionAlive.get(sessionId, now) !== null
    },
  }
}
