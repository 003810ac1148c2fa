import type { Database } from 'bun:sqlite'
import type { UserRecord } from '../store'
import { retryBusy, returning, statement, USER } from './database'
import type { RevocationWriter } from './revocations'
import type { SessionWriter } from './sessions'
import type { ResetStore } from '../parts'

/** What the user part writes through: a deactivation or a new password voids pending links. */
export interface ResetWriter {
  drop(userId: number): void
}

export function createResetStore(db: Database, sessions: SessionWriter, revocations: RevocationWriter): ResetStore & { writer: ResetWriter } {
  const q = <T>(sql: string) => statement<T>(db, sql)
  const insert = q(`INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`)
  const dropOf = q(`DELETE FROM password_resets WHERE user_id = ?`)
  const dropExpired = q(`DELETE FROM password_resets WHERE expires_at <= ?`)
  // Taken by deleting it: of two uses racing, one deletes the row and the other finds none.
  const take = q<{ userId: number }>(
    `DELETE FROM password_resets WHERE token_hash = ?1 AND expires_at > ?2 RETURNING user_id AS userId`,
  )
  const live = q<{ one: number }>(`SELECT 1 AS one FROM password_resets WHERE token_hash = ? AND expires_at > ?`)
  const activeUser = q<UserRecord>(`SELECT ${USER} FROM users u WHERE u.id = ? AND u.deactivated_at IS NULL AND u.role != 'bot'`)
  const setHash = q(`UPDATE users SET password_hash = ? WHERE id = ?`)

  const createTx = db.transaction((userId: number, tokenHash: Uint8Array, now: number, expiresAt: number) => {
    dropOf.run(userId)
    dropExpired.run(now)
    insert.run(tokenHash, userId, now, expiresAt)
  })
  const resetTx = db.transaction((tokenHash: Uint8Array, passwordHash: string, session: { tokenHash: Uint8Array; expiresAt: number }, now: number) => {
    const taken = returning(take, tokenHash, now)
    const user = taken && activeUser.get(taken.userId)
    if (!user) return null
    setHash.run(passwordHash, user.id)
    const endedSessionIds = sessions.endAll(user.id, null, 'session')
    dropOf.run(user.id)
    revocations.record(user.id, endedSessionIds, now)
    const sessionId = sessions.create({ userId: user.id, tokenHash: session.tokenHash, now, expiresAt: session.expiresAt })
    return { user, sessionId, endedSessionIds }
  })

  return {
    writer: { drop: (userId) => void dropOf.run(userId) },
    async createPasswordReset({ userId, tokenHash, now, expiresAt }) {
      await retryBusy(() => createTx.immediate(userId, tokenHash, now, expiresAt))
    },
    async passwordResetLive(tokenHash, now) {
      return live.get(tokenHash, now) !== null
    },
    async resetPassword({ tokenHash, passwordHash, session, now }) {
      return retryBusy(() => resetTx.immediate(tokenHash, passwordHash, session, now))
    },
  }
}
