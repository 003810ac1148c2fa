import type { Database } from 'bun:sqlite'
import type { Store, StoredEvent } from '../store'
import { bounded, returning, statement } from './database'
import { MESSAGE, toRecord, type MessageRow } from './message-rows'

export type EventStore = Pick<Store, 'eventsAfter' | 'userEventsAfter' | 'roomEventsAfter' | 'maxEventId'>

/** Appends change events, inside the caller's write transaction. */
export interface EventWriter {
  /** Stores an event of the message and returns its number, the next of the sequence. */
  append(roomId: number, messageId: number, kind: 'updated' | 'deleted', now: number): number
}

type ChangeKind = 'updated' | 'deleted'
type EventRow = MessageRow & { eventId: number; kind: 'message' | ChangeKind; eventRoomId: number; eventMessageId: number; at: number }

/**
 * The events of a range, read in one query however they mix: the messages themselves (each
 * its own `message` event) merged in id order with the change events, each change joined to
 * its message as it is now. Left out by the join: the updates of a message deleted since
 * (its deletion comes later in the sequence). A deleted message's own row is gone, so its
 * `message` event goes with it.
 */
function eventsQuery(scope: { messages: string; changes: string }) {
  return `
    SELECT m.id AS eventId, 'message' AS kind, m.room_id AS eventRoomId, m.id AS eventMessageId, m.created_at AS at, ${MESSAGE}
    ${scope.messages}
    UNION ALL
    SELECT e.id AS eventId, e.kind, e.room_id AS eventRoomId, e.message_id AS eventMessageId, e.created_at AS at, ${MESSAGE}
    ${scope.changes}
    AND (e.kind = 'deleted' OR m.id IS NOT NULL)
    ORDER BY eventId LIMIT ?3`
}

const toEvent = (row: EventRow): StoredEvent => {
  switch (row.kind) {
    case 'message':
      return { kind: 'message', id: row.eventId, at: row.at, message: toRecord(row) }
    case 'updated':
      return { kind: 'message-updated', id: row.eventId, at: row.at, message: toRecord(row) }
    case 'deleted':
      return { kind: 'message-deleted', id: row.eventId, at: row.at, roomId: row.eventRoomId, messageId: row.eventMessageId }
  }
}

export function createEventStore(db: Database): EventStore & { writer: EventWriter } {
  const q = <T>(sql: string) => statement<T>(db, sql)
  // ?1: after this id; ?2: the user or room; ?3: limit.
  const allAfter = q<EventRow>(
    eventsQuery({
      messages: `FROM messages m WHERE m.id > ?1`,
      changes: `FROM message_events e LEFT JOIN messages m ON m.id = e.message_id WHERE e.id > ?1`,
    }),
  )
  const userAfter = q<EventRow>(
    eventsQuery({
      messages: `FROM participants p JOIN messages m ON m.room_id = p.room_id AND m.id > ?1 WHERE p.user_id = ?2`,
      changes: `FROM participants p JOIN message_events e ON e.room_id = p.room_id AND e.id > ?1
        LEFT JOIN messages m ON m.id = e.message_id WHERE p.user_id = ?2`,
    }),
  )
  const roomAfter = q<EventRow>(
    eventsQuery({
      messages: `FROM messages m WHERE m.room_id = ?2 AND m.id > ?1`,
      changes: `FROM message_events e LEFT JOIN messages m ON m.id = e.message_id WHERE e.room_id = ?2 AND e.id > ?1`,
    }),
  )
  const lastId = q<{ id: number }>(`SELECT last_id AS id FROM event_sequence`)
  // The number is taken from the counter row and moved by the trigger, in this one statement.
  const insertEvent = q<{ id: number }>(
    `INSERT INTO message_events (id, room_id, message_id, kind, created_at)
     SELECT last_id + 1, ?, ?, ?, ? FROM event_sequence RETURNING id`,
  )

  return {
    writer: {
      append: (roomId, messageId, kind, now) => returning(insertEvent, roomId, messageId, kind, now)!.id,
    },
    async eventsAfter(afterId, limit) {
      return allAfter.all(afterId, null, bounded(limit)).map(toEvent)
    },
    async userEventsAfter(userId, afterId, limit) {
      return userAfter.all(afterId, userId, bounded(limit)).map(toEvent)
    },
    async roomEventsAfter(roomId, afterId, limit) {
      return roomAfter.all(afterId, roomId, bounded(limit)).map(toEvent)
    },
    async maxEventId() {
      return lastId.get()!.id
    },
  }
}
