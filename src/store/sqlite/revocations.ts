import type { Database } from 'bun:sqlite'
import { statement } from './database'
import type { RevocationStore } from '../parts'

/**
 * How long a revocation is kept. Readers poll every second from the newest id they saw, so
 * only a reader stalled this long could miss one; the log stays a few rows long.
 */
const KEEP_MS = 3_600_000

/** What the account parts write through, inside their own transactions. */
export interface RevocationWriter {
  /** Logs the ended sessions of userId, or (none given) a change of the account itself. */
  record(userId: number, sessionIds: readonly number[] | null, now: number): void
}

export function createRevocationStore(db: Database): RevocationStore & { writer: RevocationWriter } {
  const q = <T>(sql: string) => statement<T>(db, sql)
  const insert = q(`INSERT INTO revocations (user_id, session_id, at) VALUES (?, ?, ?)`)
  const prune = q(`DELETE FROM revocations WHERE at < ?`)
  const after = q<{ id: number; userId: number; sessionId: number | null }>(
    `SELECT id, user_id AS userId, session_id AS sessionId FROM revocations WHERE id > ? ORDER BY id LIMIT ?`,
  )
  const last = q<{ id: number }>(`SELECT coalesce(max(id), 0) AS id FROM revocations`)

  return {
    writer: {
      record(userId, sessionIds, now) {
        prune.run(now - KEEP_MS)
        if (sessionIds === null) insert.run(userId, null, now)
        else for (const id of sessionIds) insert.run(userId, id, now)
      },
    },
    async revocationsAfter(afterId, limit) {
      return after.all(afterId, limit)
    },
    async lastRevocationId() {
      return last.get()!.id
    },
  }
}
