import type { SQL } from 'bun'
import { bounded, num, type Database } from './database'
import type { RevocationStore } from '../parts'

/**
 * How long a revocation is kept. Readers poll every second from the newest id they saw, so
 * only a reader stalled this long could miss one; the log stays a few rows long.
 */
const KEEP_MS = 3_600_000

/**
 * Any constant: the advisory lock revocation writers hold to commit. Readers poll
 * `id > cursor`, so ids must become visible in id order. An identity column alone does not
 * give that with concurrent writers (a transaction that took id 7 can commit after one that
 * took 8, and a reader that saw 8 never reads 7: a revoked session would stay cached). Taking
 * the id under a transaction-scoped lock, released only after the commit is visible, makes
 * each next id both larger and later. Revocations are rare (logouts, account changes), so
 * writers queueing on one lock costs nothing that matters. Every account change records last,
 * after its other writes, so a transaction holding this lock never waits on a row lock.
 */
const REVOCATION_LOCK = 7_415_101

/** What the account parts write through, inside their own transactions. */
export interface RevocationWriter {
  /** Logs the ended sessions of userId, or (null) a change of the account itself. */
  record(tx: SQL, userId: number, sessionIds: readonly number[] | null, now: number): Promise<void>
  /**
   * Runs `ending` (a DELETE FROM sessions ... RETURNING id, user_id) and logs what it deleted,
   * in one autocommit statement (a logout in one round trip); answers how many ended.
   */
  endSessions(sql: SQL, ending: SQL.Query<unknown>, now: number): Promise<number>
}

export const revocationWriter: RevocationWriter = {
  async record(tx, userId, sessionIds, now) {
    // Nothing to log: no lock, and no pruning either (only the lock's holder prunes, so two
    // prunes never wait on each other's rows; the next write prunes).
    if (sessionIds !== null && sessionIds.length === 0) return
    await tx`SELECT pg_advisory_xact_lock(${REVOCATION_LOCK})`
    const rows = sessionIds === null ? [null] : sessionIds
    await tx`WITH pruned AS (DELETE FROM revocations WHERE at < ${now - KEEP_MS})
             INSERT INTO revocations (user_id, session_id, at)
             SELECT ${userId}, s, ${now} FROM unnest(${rows}::int8[]) AS s`
  },
  async endSessions(sql, ending, now) {
    // The lock is taken only when a row was deleted, and before the ids: the inserted rows are
    // the join of both CTEs, so their defaults (the next ids) are drawn after the lock is held.
    const logged = await sql`
      WITH ended AS (${ending}),
           locked AS (SELECT pg_advisory_xact_lock(${REVOCATION_LOCK}) FROM (SELECT 1 FROM ended LIMIT 1) AS any_ended),
           pruned AS (DELETE FROM revocations WHERE at < ${now - KEEP_MS} AND EXISTS (SELECT 1 FROM locked))
      INSERT INTO revocations (user_id, session_id, at) SELECT e.user_id, e.id, ${now} FROM ended e CROSS JOIN locked
      RETURNING 1`
    return logged.length
  },
}

export function createRevocationStore(db: Database): RevocationStore {
  return {
    async revocationsAfter(afterId, limit) {
      const rows = await db.run(
        (sql) => sql`SELECT id, user_id, session_id FROM revocations WHERE id > ${afterId} ORDER BY id LIMIT ${bounded(limit)}`,
      )
      return rows.map((r: Record<string, unknown>) => ({
        id: num(r.id),
        userId: num(r.user_id),
        sessionId: r.session_id === null ? null : num(r.session_id),
      }))
    },
    async lastRevocationId() {
      const [row] = await db.run((sql) => sql`SELECT coalesce(max(id), 0) AS id FROM revocations`)
      return num(row.id)
    },
  }
}
