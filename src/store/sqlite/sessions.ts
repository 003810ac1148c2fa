import type { Database } from 'bun:sqlite'
import type { SessionKind, SessionRecord, TokenRecord, UserRecord } from '../store'
import { bounded, retryBusy, returning, statement, USER } from './database'
import type { RevocationWriter } from './revocations'
import type { NewSession, SessionStore } from '../parts'

/** What the other account parts write through, inside their own transactions. */
export interface SessionWriter {
  create(input: NewSession): number
  /** Deletes userId's sessions (of `kind`, else every kind) but `keep`; answers their ids. */
  endAll(userId: number, keep: number | null, kind?: SessionKind): number[]
}

/** Live: not expired (NULL never expires), of an active user. */
const LIVE = `(s.expires_at IS NULL OR s.expires_at > ?2) AND u.deactivated_at IS NULL`
const TOKEN = `s.id, s.name, s.created_at AS createdAt, s.expires_at AS expiresAt, s.last_used_at AS lastUsedAt`

export function createSessionStore(db: Database, revocations: RevocationWriter): SessionStore & { writer: SessionWriter } {
  const q = <T>(sql: string) => statement<T>(db, sql)
  // Expired rows (sessions and access tokens) are already refused; they go when their user next
  // signs in or makes a token, through the user's index, so each write deletes only that user's
  // few. A user who never comes back leaves at most one TTL's worth of logins.
  const dropExpired = q(`DELETE FROM sessions WHERE user_id = ? AND expires_at <= ?`)
  const insertSession = q<{ id: number }>(
    `INSERT INTO sessions (token_hash, user_id, created_at, expires_at, kind, name) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
  )
  const sessionByHash = q<UserRecord & { sessionId: number; kind: SessionKind; expiresAt: number | null; lastUsedAt: number | null }>(
    `SELECT s.id AS sessionId, s.kind, s.expires_at AS expiresAt, s.last_used_at AS lastUsedAt, ${USER}
     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?1 AND ${LIVE}`,
  )
  const extendSession = q(`UPDATE sessions SET expires_at = ? WHERE id = ?`)
  const touch = q(`UPDATE sessions SET last_used_at = ? WHERE id = ?`)
  const deleteSession = q<{ userId: number }>(`DELETE FROM sessions WHERE id = ? RETURNING user_id AS userId`)
  const sessionAlive = q<{ one: number }>(
    `SELECT 1 AS one FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ?1 AND ${LIVE}`,
  )
  const endAll = q<{ id: number }>(
    `DELETE FROM sessions WHERE user_id = ?1 AND id IS NOT ?2 AND (?3 IS NULL OR kind = ?3) RETURNING id`,
  )
  const tokensOf = q<TokenRecord>(
    `SELECT ${TOKEN} FROM sessions s WHERE s.user_id = ?1 AND s.kind = 'token' AND (s.expires_at IS NULL OR s.expires_at > ?2)
     ORDER BY s.id DESC LIMIT ?3`,
  )
  const deleteToken = q<{ id: number }>(`DELETE FROM sessions WHERE user_id = ? AND id = ? AND kind = 'token' RETURNING id`)

  const writer: SessionWriter = {
    create: ({ userId, tokenHash, now, expiresAt, kind = 'session', name }) => {
      dropExpired.run(userId, now)
      return returning(insertSession, tokenHash, userId, now, expiresAt, kind, name ?? null)!.id
    },
    endAll: (userId, keep, kind) => endAll.all(userId, keep, kind ?? null).map((r) => r.id),
  }
  const deleteTx = db.transaction((sessionId: number, now: number) => {
    const row = returning(deleteSession, sessionId)
    if (row) revocations.record(row.userId, [sessionId], now)
    return row !== null
  })
  const deleteTokenTx = db.transaction((userId: number, tokenId: number, now: number) => {
    const row = returning(deleteToken, userId, tokenId)
    if (row) revocations.record(userId, [tokenId], now)
    return row !== null
  })

  return {
    writer,
    async createSession(input) {
      return retryBusy(() => writer.create(input))
    },
    async findSession(tokenHash, now): Promise<SessionRecord | null> {
      const row = sessionByHash.get(tokenHash, now)
      if (!row) return null
      const { sessionId, kind, expiresAt, lastUsedAt, ...user } = row
      return { id: sessionId, user, kind, expiresAt, lastUsedAt }
    },
    async extendSession(sessionId, expiresAt) {
      await retryBusy(() => extendSession.run(expiresAt, sessionId))
    },
    async touchSession(sessionId, now) {
      await retryBusy(() => touch.run(now, sessionId))
    },
    async deleteSession(sessionId, now) {
      return retryBusy(() => deleteTx.immediate(sessionId, now))
    },
    async sessionAlive(sessionId, now) {
      return sessionAlive.get(sessionId, now) !== null
    },
    async listTokens(userId, now, limit) {
      return tokensOf.all(userId, now, bounded(limit))
    },
    async deleteToken(userId, tokenId, now) {
      return retryBusy(() => deleteTokenTx.immediate(userId, tokenId, now))
    },
  }
}
