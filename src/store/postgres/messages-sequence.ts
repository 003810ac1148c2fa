import type { SQL } from 'bun'

/*
 * Event ids in commit order: why the one `event_sequence` row, and how writers take from it.
 *
 * A reader of the event stream asks for `id > cursor` and then moves its cursor to the last id
 * it got. That is correct only if no row with an id <= the cursor can become visible later,
 * i.e. if ids increase with commit order. A sequence (bigserial) does not give this: ids are
 * handed out when the row is inserted, and the transactions commit in any order, so a reader
 * that saw 8 (committed) moves past 7 (still open) and never sees it (measured: about half of
 * 3,000 messages missed with 12 jittered writers).
 *
 * So every writer of messages and message_events takes its numbers by UPDATEing the one
 * counter row, inside its writing transaction. The row lock that UPDATE takes is held until
 * the transaction ends. A second writer's UPDATE waits on that lock, and gets the row only
 * after the first transaction has ended; PostgreSQL releases a transaction's locks after it
 * has made its commit visible to new snapshots. The second writer therefore reads the
 * committed counter (READ COMMITTED re-reads the updated row), takes larger numbers, and its
 * own commit comes later. Hence: if a reader's snapshot sees a row numbered N, every number
 * below N was taken by a transaction that had already committed (its rows are visible in that
 * snapshot too) or had rolled back (its numbers are never used; the counter rolled back with
 * it). A reader that reads a range in ONE statement (one snapshot: events.ts) sees, below the
 * newest id it returns, everything it will ever see, so advancing its cursor misses nothing.
 * Ids are never reused: the counter only grows, and deleting rows does not touch it. Gaps are
 * harmless (a batch reserves one number per post and a deduplicated post leaves its unused).
 *
 * The cost is that writers serialize on this row from their UPDATE to their commit, so that
 * span must be short: every writer takes its numbers in its LAST statement (the one that also
 * inserts the rows numbered), after all its checks and waits, and COMMIT follows at once. A
 * post batch takes all of its n numbers with one UPDATE (last_id + n) in the statement that
 * inserts all n messages. And a holder of the counter must never wait for another lock, or
 * every writer of the server waits with it (and a deadlock could form through it): so before
 * their numbering statement writers lock what that statement's foreign key checks and updates
 * touch (the room FOR KEY SHARE, the sender's membership row, claimed files); see messages.ts.
 */

/**
 * A CTE body taking `n` numbers: `base + 1 .. base + n` are the caller's. With `onlyAfter`
 * (the name of a CTE of the same statement), only when that CTE has a row; it is then run
 * first, so whatever it waits for is waited for before the counter is held.
 */
export const takeIds = (sql: SQL, n: number, onlyAfter?: string) =>
  onlyAfter === undefined
    ? sql`UPDATE event_sequence SET last_id = last_id + ${n}::int8 WHERE id = 1 RETURNING last_id - ${n}::int8 AS base`
    : sql`UPDATE event_sequence SET last_id = last_id + ${n}::int8 WHERE id = 1 AND EXISTS (SELECT 1 FROM ${sql.unsafe(onlyAfter)})
          RETURNING last_id - ${n}::int8 AS base`

/** The room row as the foreign key checks of a numbering statement need it, taken first. */
export const lockRoom = (sql: SQL, roomId: number) => sql`SELECT id FROM rooms WHERE id = ${roomId}::int8 FOR KEY SHARE`
