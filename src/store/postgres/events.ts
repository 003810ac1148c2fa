import type { SQL } from 'bun'
import type { Store, StoredEvent } from '../store'
import { bounded, num, type Database } from './database'
import { MESSAGE_COLUMNS, toRecord, type Row } from './message-rows'

export type EventStore = Pick<Store, 'eventsAfter' | 'userEventsAfter' | 'roomEventsAfter' | 'maxEventId'>

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
/** The user's rooms when the page is read. */
const ofUser = (userId: number): Scope => ({
  messages: (sql) => sql`m.room_id IN (SELECT room_id FROM participants WHERE user_id = ${userId}::int8)`,
  changes: (sql) => sql`e.room_id IN (SELECT room_id FROM participants WHERE user_id = ${userId}::int8)`,
})

export function createEventStore(db: Database): EventStore {
  const read = async (scope: Scope, afterId: number, limit: number): Promise<StoredEvent[]> => {
    const n = bounded(limit)
    if (n === 0) return []
    const rows: Row[] = await db.run((sql) => events(sql, scope, afterId, n))
    return rows.map(toEvent)
  }
  return {
    eventsAfter: (afterId, limit) => read(everywhere, afterId, limit),
    userEventsAfter: (userId, afterId, limit) => read(ofUser(userId), afterId, limit),
    roomEventsAfter: (roomId, afterId, limit) => read(inRoom(roomId), afterId, limit),
    async maxEventId() {
      const [row] = await db.run((sql) => sql`SELECT last_id FROM event_sequence`)
      return num(row.last_id)
    },
  }
}
