import type { SQL } from 'bun'
import type { Database } from './database'
import { userColumns, userOrNull } from './accounts-rows'
import type { RevocationWriter } from './accounts-revocations'
import type { SessionWriter } from './accounts-sessions'
import type { ResetStore } from '../parts'

/** What the user part writes through: a deactivation or a new password voids pending links. */
export interface ResetWriter {
  drop(tx: SQL, userId: number): Promise<void>
}

export const resetWriter: ResetWriter = {
  async drop(tx, userId) {
    await tx`DELETE FROM password_resets WHERE user_id = ${userId}`
  },
}

export function createResetStore(db: Database, sessions: SessionWriter, revocations: RevocationWriter): ResetStore {
  return {
    async createPasswordReset({ userId, tokenHash, now, expiresAt }) {
      // The user's earlier links and everyone's expired ones go in the same statement.
      await db.run(
        (sql) => sql`WITH dropped AS (DELETE FROM password_resets WHERE user_id = ${userId} OR expires_at <= ${now})
                     INSERT INTO password_resets (token_hash, user_id, created_at, expires_at)
                     VALUES (${tokenHash}, ${userId}, ${now}, ${expiresAt})`,
      )
    },
    async passwordResetLive(tokenHash, now) {
      const rows = await db.run((sql) => sql`SELECT 1 FROM password_resets WHERE token_hash = ${tokenHash} AND expires_at > ${now}`)
      return rows.length > 0
    },
    resetPassword: ({ tokenHash, passwordHash, session, now }) =>
      db.tx(async (tx) => {
        // Taken by deleting it: of two uses racing, one deletes the row, the other (waiting on
        // its lock) then finds it gone. A link of a deactivated user or a bot is used up too.
        const user = userOrNull(
          await tx`WITH taken AS (DELETE FROM password_resets WHERE token_hash = ${tokenHash} AND expires_at > ${now} RETURNING user_id)
                   SELECT ${userColumns(tx)} FROM users u JOIN taken t ON u.id = t.user_id
                   WHERE u.deactivated_at IS NULL AND u.role != 'bot'`,
        )
        if (!user) return null
        const [, ended] = await Promise.all([
          tx`WITH others AS (DELETE FROM password_resets WHERE user_id = ${user.id})
             UPDATE users SET password_hash = ${passwordHash} WHERE id = ${user.id}`,
          sessions.endAll(tx, user.id, null, 'session'),
        ])
        const sessionId = await sessions.create(tx, { userId: user.id, tokenHash: session.tokenHash, now, expiresAt: session.expiresAt })
        // Last: the log's lock is the last one any account change takes (so none waits holding it).
        await revocations.record(tx, user.id, ended, now)
        return { user, sessionId, endedSessionIds: ended }
      }),
  }
}
