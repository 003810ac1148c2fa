import type { SQL } from 'bun'
import type { StoredEvent } from '../store'
import { bounded, num, type Database } from './database'
import { MESSAGE_COLUMNS, toRecord, type Row } from './message-rows'
import type { EventStore } from '../parts'

/*
 * A range of events is the messages themselves (each its own `message` event) and the change
 * events, each joined to its message as it is now, merged in id order: ONE statement, so one
 * snapshot, which is what makes `id > cursor` safe (messages-sequence.ts: every id below the
 * newest one a snapshot sees belongs to a transaction it sees, or to none). Two statements
 * could each see a different set of commits, and a page could hold a change numbered after a
 * message it does not hold. Left out by the join: the updates of a message deleted since (its
 * deletion comes later in the sequence). A deleted message's row is gone, and its `message`
 * event with it. Each side is bounded by the page's limit before the merge.
 */
const MESSAGE_EVENT = `m.id AS "eventId", 'message' AS kind, m.room_id AS "eventRoomId", m.id AS "eventMessageId", m.created_at AS at, ${MESSAGE_COLUMNS}`
const CHANGE_EVENT = `e.id AS "eventId", e.kind, e.room_id AS "eventRoomId", e.message_id AS "eventMessageId", e.created_at AS at, ${MESSAGE_COLUMNS}`

const toEvent = (row: Row): StoredEvent => {
  const id = num(row.eventId)
  const at = num(row.at)
  if (row.kind === 'deleted') return { kind: 'message-deleted', id, at, roomId: num(row.eventRoomId), messageId: num(row.eventMessageId) }
  return { kind: row.kind === 'message' ? 'message' : 'message-updated', id, at, message: toRecord(row) }
}

/** Which rows of messages (m) and message_events (e) a scope reads. */
interface Scope {
  messages(sql: SQL): SQL.Query<unknown>
  changes(sql: SQL): SQL.Query<unknown>
}

const events = (sql: SQL, scope: Scope, afterId: number, limit: number) => sql`
  (SELECT ${sql.unsafe(MESSAGE_EVENT)} FROM messages m
   WHERE ${scope.messages(sql)} AND m.id > ${afterId}::int8 ORDER BY m.id LIMIT ${limit})
  UNION ALL
  (SELECT ${sql.unsafe(CHANGE_EVENT)} FROM message_events e LEFT JOIN messages m ON m.id = e.message_id
   WHERE ${scope.changes(sql)} AND e.id > ${afterId}::int8 AND (e.kind = 'deleted' OR m.id IS NOT NULL) ORDER BY e.id LIMIT ${limit})
  ORDER BY "eventId" LIMIT ${limit}`

const everywhere: Scope = { messages: (sql) => sql`true`, changes: (sql) => sql`true` }
const inRoom = (roomId: number): Scope => ({
  messages: (sql) => sql`m.room_id = ${roomId}::int8`,
  changes: (sql) => sql`e.room_id = ${roomId}::int8`,
})
/*
 * A user's events live in many rooms, each an index range of (room_id, id). Read as one join
 * ordered by id, PostgreSQL walks the primary key from the cursor and keeps the rows of the
 * user's rooms: fine when those rooms carry most of the traffic, but a user in one quiet room
 * of a busy server read every message since the cursor for each page (90,000 rows for 10
 * events here). So a user's page is read per room (a LATERAL range of each room's index, at
 * most a page each) and merged, within a window of ids above the cursor: (cursor, cursor +
 * width], capped at the head. A window that holds fewer than a page of the user's events is
 * widened 8-fold and read again, until it reaches the head: the rows read stay near the
 * page's size whatever the gap and the user's share of the traffic, in a few statements.
 * The first window (at most two pages of ids) is read as one join, the cheapest when the
 * user's rooms carry most of the traffic; the wider ones per room. The ranges yield ids only (index-only scans of (room_id, id), which the planner takes; with
 * whole rows it preferred walking the primary key through the window, filtering by room),
 * and the page's rows are then fetched by primary key.
 * The page returned is the result of ONE statement (one snapshot). The head and the user's
 * rooms are read first: the rooms they are in when the page is read; a page is short only
 * when nothing more up to that head is theirs. The test of a change (its message still
 * there) sits inside each room's range, before its limit, so a room's range never stops
 * short of an event it holds.
 */
/** The first window, as one join: its rows are few whichever way PostgreSQL walks them. */
const inRoomsUpTo = (roomIds: number[], upTo: number): Scope => ({
  messages: (sql) => sql`m.room_id = ANY(${roomIds}::int8[]) AND m.id <= ${upTo}::int8`,
  changes: (sql) => sql`e.room_id = ANY(${roomIds}::int8[]) AND e.id <= ${upTo}::int8`,
})

const userWindow = (sql: SQL, roomIds: number[], afterId: number, upTo: number, limit: number) => sql`
  WITH ids AS (
    (SELECT m.id, false AS change FROM unnest(${roomIds}::int8[]) AS r(id)
     CROSS JOIN LATERAL (
       SELECT m.id FROM messages m WHERE m.room_id = r.id AND m.id > ${afterId}::int8 AND m.id <= ${upTo}::int8
       ORDER BY m.id LIMIT ${limit}
     ) m)
    UNION ALL
    (SELECT e.id, true FROM unnest(${roomIds}::int8[]) AS r(id)
     CROSS JOIN LATERAL (
       SELECT e.id FROM message_events e WHERE e.room_id = r.id AND e.id > ${afterId}::int8 AND e.id <= ${upTo}::int8
         AND (e.kind = 'deleted' OR EXISTS (SELECT 1 FROM messages x WHERE x.id = e.message_id))
       ORDER BY e.id LIMIT ${limit}
     ) e)
    ORDER BY id LIMIT ${limit}
  )
  (SELECT ${sql.unsafe(MESSAGE_EVENT)} FROM messages m WHERE m.id = ANY(array(SELECT id FROM ids WHERE NOT change)))
  UNION ALL
  (SELECT ${sql.unsafe(CHANGE_EVENT)} FROM message_events e LEFT JOIN messages m ON m.id = e.message_id
   WHERE e.id = ANY(array(SELECT id FROM ids WHERE change)))
  ORDER BY "eventId"`

export function createEventStore(db: Database): EventStore {
  const read = async (scope: Scope, afterId: number, limit: number): Promise<StoredEvent[]> => {
    const n = bounded(limit)
    if (n === 0) return []
    const rows: Row[] = await db.run((sql) => events(sql, scope, afterId, n))
    return rows.map(toEvent)
  }
  return {
    eventsAfter: (afterId, limit) => read(everywhere, afterId, limit),
    async userEventsAfter(userId, afterId, limit) {
      const n = bounded(limit)
      if (n === 0) return []
      const [now] = await db.run(
        (sql) => sql`SELECT (SELECT last_id FROM event_sequence) AS head,
                            array(SELECT room_id FROM participants WHERE user_id = ${userId}::int8) AS rooms`,
      )
      const head = num(now.head)
      const roomIds = (now.rooms as unknown[]).map(num)
      if (head <= afterId || roomIds.length === 0) return []
      for (let width = 2 * n, first = true; ; width *= 8, first = false) {
        const upTo = Math.min(head, afterId + width)
        const rows: Row[] = await db.run((sql) =>
          first ? events(sql, inRoomsUpTo(roomIds, upTo), afterId, n) : userWindow(sql, roomIds, afterId, upTo, n),
        )
        if (rows.length >= n || upTo >= head) return rows.map(toEvent)
      }
    },
    roomEventsAfter: (roomId, afterId, limit) => read(inRoom(roomId), afterId, limit),
    async maxEventId() {
      const [row] = await db.run((sql) => sql`SELECT last_id FROM event_sequence`)
      return num(row.last_id)
    },
  }
}
