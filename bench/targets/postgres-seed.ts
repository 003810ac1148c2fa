/**
 * The history database on PostgreSQL: the same rows as the SQLite seed (targets/ours.ts), made
 * by INSERT ... SELECT FROM generate_series statements on the server itself, so a million
 * messages take no million round trips. The schema comes from the server's own migrations
 * (`openDatabase` in src/store/postgres/database.ts), so it cannot drift.
 *
 * What a row costs is mostly its generated search vector (text folding and to_tsvector, tens of
 * µs each), so the load is done as a bulk load is: the messages' secondary indexes are dropped
 * and built again afterwards from their own definitions (pg_get_indexdef), the messages go in
 * over one connection per core, and foreign keys and triggers are not fired
 * (session_replication_role = replica: the seed's rows are consistent by construction, and no
 * bot or push subscription exists for the outgoing trigger to act on).
 */
import { SQL } from 'bun'
import { availableParallelism } from 'node:os'
import { openDatabase } from '../../src/store/postgres/database'
import { SEEDED_CONTENT, type HistoryShape } from './target'

/** Longer than any statement of a seed takes, for the seed's own sessions only. */
const SEED_STATEMENT_TIMEOUT = '900s'

/** Settings of a seeding transaction: nothing it writes needs to wait for the disk, or to be checked. */
async function bulk(tx: SQL): Promise<void> {
  await tx`SET LOCAL synchronous_commit = off`
  await tx`SET LOCAL session_replication_role = replica`
  await tx`SET LOCAL maintenance_work_mem = '256MB'`
}

/** Messages first..last (inclusive) of `shape`, their reactions too. */
async function insertMessages(sql: SQL, shape: HistoryShape, now: number, first: number, last: number): Promise<void> {
  const { messages: n, rooms } = shape
  await sql.begin(async tx => {
    await bulk(tx)
    // Message k: room ((k-1) % rooms) + 1, one second apart ending now; every tenth (past the
    // first round of rooms) answers the one before it in its room and carries a reaction, in
    // the table and in the row's JSON copy, as the SQLite seed writes them.
    await tx`
      INSERT INTO messages (id, room_id, sender_id, content, message_type, created_at, reply_to_id, reactions)
      SELECT k, (k - 1) % ${rooms}::int8 + 1, 1, ${SEEDED_CONTENT.before} || k || ${SEEDED_CONTENT.after}, 'MESSAGE',
             ${now}::int8 - (${n}::int8 - k) * 1000,
             CASE WHEN k % 10 = 0 AND k > ${rooms}::int8 THEN k - ${rooms}::int8 END,
             CASE WHEN k % 10 = 0 AND k > ${rooms}::int8 THEN '[{"emoji":"👍","userIds":[1]}]'::jsonb END
      FROM generate_series(${first}::int8, ${last}::int8) AS k`
    await tx`INSERT INTO reactions (message_id, emoji, user_id)
             SELECT k, '👍', 1 FROM generate_series(${first}::int8, ${last}::int8) AS k WHERE k % 10 = 0 AND k > ${rooms}::int8`
  })
}

export async function seedPostgresHistory(url: string, shape: HistoryShape, owner: string): Promise<void> {
  await (await openDatabase({ url })).close()
  const parts = Math.max(1, Math.min(4, availableParallelism()))
  const sql = new SQL(url, { max: parts, connection: { statement_timeout: SEED_STATEMENT_TIMEOUT } })
  const { messages: n, rooms } = shape
  const now = Date.now()
  try {
    const indexes: { definition: string }[] = await sql.begin(async tx => {
      await bulk(tx)
      // Nobody logs in as the seeding owner: the hash only has to be present.
      await tx`INSERT INTO users (id, username, display_name, password_hash, created_at) VALUES (1, ${owner}, 'seed', 'not-a-hash', ${now})`
      await tx`INSERT INTO rooms (id, name, type, visibility, owner_id, created_at)
               SELECT r, 'room ' || r, 'group', 'public', 1, ${now} FROM generate_series(1, ${rooms}::int8) AS r`
      await tx`INSERT INTO participants (room_id, user_id, joined_at) SELECT r, 1, ${now} FROM generate_series(1, ${rooms}::int8) AS r`
      // Ids given explicitly leave the identity sequences behind: the next user or room the
      // server makes must not take id 1 again.
      await tx`SELECT setval(pg_get_serial_sequence('users', 'id'), 1), setval(pg_get_serial_sequence('rooms', 'id'), ${rooms}::int8)`
      // Messages and events take their ids from this counter: the next post must come after the seed's.
      await tx`UPDATE event_sequence SET last_id = ${n}::int8`
      // Every index of messages but those of constraints (the primary key), to build again after the load.
      const found: { name: string; definition: string }[] = await tx`
        SELECT indexrelid::regclass::text AS name, pg_get_indexdef(indexrelid) AS definition
        FROM pg_index WHERE indrelid = 'messages'::regclass
          AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = indexrelid)`
      for (const { name } of found) await tx.unsafe(`DROP INDEX ${name}`)
      return found
    })
    const size = Math.ceil(n / parts)
    await Promise.all(
      Array.from({ length: parts }, (_, i) => [i * size + 1, Math.min(n, (i + 1) * size)] as const)
        .filter(([first, last]) => first <= last)
        .map(([first, last]) => insertMessages(sql, shape, now, first, last)),
    )
    await Promise.all(indexes.map(({ definition }) => sql.begin(async tx => {
      await bulk(tx)
      await tx.unsafe(definition)
    })))
    // What autovacuum would do soon after a bulk load anyway: planner statistics, and a
    // visibility map that lets index-only scans skip the table.
    await sql`VACUUM (ANALYZE)`
  } finally {
    await sql.close({ timeout: 1 })
  }
}
