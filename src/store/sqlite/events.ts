import type { Database } from 'bun:sqlite'
import type { StoredEvent } from '../store'
import { bounded, returning, statement } from './database'
import { MESSAGE, toRecord, type MessageRow } from './message-rows'
import type { EventStore } from '../parts'

/** Appends change events, inside the caller's write transaction. */
export interface EventWriter {
  /** Stores an event of the message and returns its number, the next of the sequence. */
  append(roomId: number, messageId: number, kind: 'updated' | 'deleted', now: number): number
}

type ChangeRow = MessageRow & { eventId: number; kind: 'updated' | 'deleted'; eventRoomId: number; eventMessageId: number; at: number }

/*
 * A range of events is read as two ranges bounded by the sequence's head, merged in id order:
 * the messages themselves (each its own `message` event) and the change events, each joined
 * to its message as it is now. Every number up to the head belongs to a committed write (the
 * counter commits with the row that took it), so the two reads see the same events without
 * sharing a snapshot. The changes are read only when there are some after the cursor: the
 * pump's common case is the head read and the messages read (~14 µs of CPU per call against
 * ~22 µs for one UNION ALL query; each statement on a WAL database pays its own read lock).
 * Left out by the join: the updates of a message deleted since (its deletion comes later in
 * the sequence). A deleted message's row is gone, so its `message` event goes with it.
 *
 * Parameters: ?1 after this id, ?2 up to this id (the head, or less: see `read`), ?3 the user
 * or room (NULL for all), ?4 the limit.
 */
const CHANGE = `e.id AS eventId, e.kind, e.room_id AS eventRoomId, e.message_id AS eventMessageId, e.created_at AS at, ${MESSAGE}`
const messagesOf = (from: string) => `SELECT ${MESSAGE} ${from} AND m.id <= ?2 ORDER BY m.id LIMIT ?4`
const changesOf = (from: string) =>
  `SELECT ${CHANGE} ${from} AND e.id <= ?2 AND (e.kind = 'deleted' OR m.id IS NOT NULL) ORDER BY e.id LIMIT ?4`

/*
 * A user's events live in many rooms, each an index range of (room_id, id). Joining the ranges
 * and sorting read every event of every room after the cursor for each page, so a resume after
 * a gap of n events read n^2 / 2 PAGE rows (100,000 events in 50 rooms: 199 pages, the first
 * sorting all 100,000 rows, ~1 s of CPU in the store). Instead SQLite merges the rooms' ranges
 * itself: a recursive CTE with ORDER BY takes the smallest row from its queue first (SQLite's
 * documented queue order, lang_with.html), so with each room's next event queued, taking the
 * smallest and queueing that room's next one yields the user's events in id order, and LIMIT
 * ends the walk at a page: one index seek per room, then two per event (the room's next id,
 * its row), whatever the gap (~1.5-2.5 ms of CPU per page of 500, scripts/resume-gap.ts). The
 * test of a change sits inside the step that finds the room's next one, so every row the walk
 * yields is an event: a page is short only when the rooms hold nothing more, which the
 * replay's hand-over counts on. The rooms are the user's memberships when the page is read.
 */
const nextMessage = (room: string, after: string) =>
  `JOIN messages m ON m.id = (SELECT n.id FROM messages n WHERE n.room_id = ${room} AND n.id > ${after} AND n.id <= ?2 ORDER BY n.id LIMIT 1)`
const nextChange = (room: string, after: string) =>
  `JOIN message_events e ON e.id = (SELECT n.id FROM message_events n WHERE n.room_id = ${room} AND n.id > ${after} AND n.id <= ?2
     AND (n.kind = 'deleted' OR EXISTS (SELECT 1 FROM messages x WHERE x.id = n.message_id)) ORDER BY n.id LIMIT 1)
   LEFT JOIN messages m ON m.id = e.message_id`
const mergedOverRooms = (columns: string, next: (room: string, after: string) => string, room: string, id: string) =>
  `WITH RECURSIVE page AS (
    SELECT ${columns} FROM participants p ${next('p.room_id', '?1')} WHERE p.user_id = ?3
    UNION ALL
    SELECT ${columns} FROM page h ${next(`h.${room}`, `h.${id}`)}
    ORDER BY ${id} LIMIT ?4
  ) SELECT * FROM page ORDER BY ${id}`

const toChange = (row: ChangeRow): StoredEvent =>
  row.kind === 'updated'
    ? { kind: 'message-updated', id: row.eventId, at: row.at, message: toRecord(row) }
    : { kind: 'message-deleted', id: row.eventId, at: row.at, roomId: row.eventRoomId, messageId: row.eventMessageId }

/** The first `limit` events of two id-ordered lists. */
function merge(messages: MessageRow[], changes: ChangeRow[], limit: number): StoredEvent[] {
  const events: StoredEvent[] = []
  let i = 0
  let j = 0
  while (events.length < limit && (i < messages.length || j < changes.length)) {
    if (j === changes.length || (i < messages.length && messages[i]!.id < changes[j]!.eventId)) {
      const message = toRecord(messages[i++]!)
      events.push({ kind: 'message', id: message.id, at: message.createdAt, message })
    } else events.push(toChange(changes[j++]!))
  }
  return events
}

export function createEventStore(db: Database): EventStore & { writer: EventWriter } {
  const q = <T>(sql: string) => statement<T>(db, sql)
  const scopes = {
    all: {
      messages: q<MessageRow>(messagesOf(`FROM messages m WHERE m.id > ?1 AND ?3 IS NULL`)),
      changes: q<ChangeRow>(changesOf(`FROM message_events e LEFT JOIN messages m ON m.id = e.message_id WHERE e.id > ?1 AND ?3 IS NULL`)),
    },
    user: {
      messages: q<MessageRow>(mergedOverRooms(MESSAGE, nextMessage, 'roomId', 'id')),
      changes: q<ChangeRow>(mergedOverRooms(CHANGE, nextChange, 'eventRoomId', 'eventId')),
    },
    // The same events joined and sorted: fewer steps per event than the walk, and bounded when
    // the range holds at most a page of ids (see `read`).
    nearUser: {
      messages: q<MessageRow>(messagesOf(`FROM participants p JOIN messages m ON m.room_id = p.room_id AND m.id > ?1 WHERE p.user_id = ?3`)),
      changes: q<ChangeRow>(
        changesOf(`FROM participants p JOIN message_events e ON e.room_id = p.room_id AND e.id > ?1
          LEFT JOIN messages m ON m.id = e.message_id WHERE p.user_id = ?3`),
      ),
    },
    room: {
      messages: q<MessageRow>(messagesOf(`FROM messages m WHERE m.room_id = ?3 AND m.id > ?1`)),
      changes: q<ChangeRow>(changesOf(`FROM message_events e LEFT JOIN messages m ON m.id = e.message_id WHERE e.room_id = ?3 AND e.id > ?1`)),
    },
  }
  const lastId = q<{ id: number }>(`SELECT last_id AS id FROM event_sequence`)
  const heads = q<{ head: number; lastChange: number | null }>(
    `SELECT last_id AS head, (SELECT max(id) FROM message_events) AS lastChange FROM event_sequence`,
  )
  // The number is taken from the counter row and moved by the trigger, in this one statement.
  const insertEvent = q<{ id: number }>(
    `INSERT INTO message_events (id, room_id, message_id, kind, created_at)
     SELECT last_id + 1, ?, ?, ?, ? FROM event_sequence RETURNING id`,
  )

  const read = (scope: 'all' | 'user' | 'room', id: number | null, afterId: number, limit: number): StoredEvent[] => {
    const { head, lastChange } = heads.get()!
    const n = bounded(limit)
    if (head <= afterId || n === 0) return []
    // A resume after a short drop: at most n ids in the range, so the join reads at most n rows
    // (49 events in 50 rooms: ~130 µs of CPU joined, ~240 µs walked).
    const { messages, changes } = scopes[scope === 'user' && head - afterId <= n ? 'nearUser' : scope]
    const page = messages.all(afterId, head, id, n)
    if ((lastChange ?? 0) <= afterId) return merge(page, [], n)
    // A full page of messages ends the page at its last one: no later change can be among the first n.
    const upTo = page.length === n ? page[n - 1]!.id : head
    return merge(page, changes.all(afterId, upTo, id, n), n)
  }

  return {
    writer: {
      append: (roomId, messageId, kind, now) => returning(insertEvent, roomId, messageId, kind, now)!.id,
    },
    async eventsAfter(afterId, limit) {
      return read('all', null, afterId, limit)
    },
    async userEventsAfter(userId, afterId, limit) {
      return read('user', userId, afterId, limit)
    },
    async roomEventsAfter(roomId, afterId, limit) {
      return read('room', roomId, afterId, limit)
    },
    async maxEventId() {
      return lastId.get()!.id
    },
  }
}
