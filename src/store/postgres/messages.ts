import type { SQL } from 'bun'
import { createGroupCommit } from '../group-commit'
import type { MessageRecord, MessageType } from '../store'
import { bounded, type Database } from './database'
import { assertStorable, jsonOrNull, MESSAGE_COLUMNS, RETURNING_MESSAGE, recordOrNull, toRecord, toRecords, withReaction, type Row } from './message-rows'
import { createPostBatch } from './messages-post'
import { lockRoom, takeIds } from './messages-sequence'
import type { FileWriter } from './writers'
import type { MessageStore } from '../parts'

/** What the room part writes through, inside its own transaction `tx`: JOIN and LEAVE messages, read markers. */
export interface MessageWriter {
  /**
   * Stores a message numbered from the event sequence (messages-sequence.ts). The caller
   * holds the room row (FOR KEY SHARE, or its own insert into participants did), so this
   * statement, which holds the counter from here to commit, waits for nothing. With
   * `readBySender`, the sender's read marker moves to it in the same statement.
   */
  write(tx: SQL, message: { roomId: number; senderId: number; content: string; type: MessageType; now: number; readBySender?: boolean }): Promise<MessageRecord>
  /** Moves userId's read marker in roomId up to messageId (never back, never past the room's last message); false when not a participant. */
  markRead(tx: SQL, roomId: number, userId: number, messageId: number): Promise<boolean>
}

/** The end of the id space, for "no upper bound" (int8 parameters take it exactly). */
const NO_BOUND = Number.MAX_SAFE_INTEGER

export function createMessageStore(db: Database, files: FileWriter): MessageStore & { writer: MessageWriter } {
  const M = (sql: SQL) => sql.unsafe(MESSAGE_COLUMNS)

  const markRead = async (sql: SQL, roomId: number, userId: number, messageId: number) =>
    (
      await sql`UPDATE participants
                SET last_read_id = greatest(last_read_id, least(${messageId}::int8,
                  (SELECT coalesce(max(id), 0) FROM messages WHERE room_id = ${roomId}::int8)))
                WHERE room_id = ${roomId}::int8 AND user_id = ${userId}::int8`
    ).count > 0

  const writer: MessageWriter = {
    async write(tx, { roomId, senderId, content, type, now, readBySender = false }) {
      const rows: Row[] = await tx`
        WITH seq AS (${takeIds(tx, 1)}),
        m AS (
          INSERT INTO messages (id, room_id, sender_id, content, message_type, created_at)
          SELECT base + 1, ${roomId}::int8, ${senderId}::int8, ${content}::text, ${type}::text, ${now}::int8 FROM seq
          ${tx.unsafe(RETURNING_MESSAGE)}
        ),
        marked AS (
          UPDATE participants SET last_read_id = m.id FROM m
          WHERE ${readBySender}::bool AND participants.room_id = m.room_id AND participants.user_id = m.sender_id
            AND participants.last_read_id < m.id
        )
        SELECT ${M(tx)} FROM m`
      return toRecord(rows[0]!)
    },
    markRead: (tx, roomId, userId, messageId) => markRead(tx, roomId, userId, messageId),
  }

  const byClientId = async (sql: SQL, senderId: number, roomId: number, clientMessageId: string) =>
    recordOrNull(
      await sql`SELECT ${M(sql)} FROM messages m
                WHERE m.sender_id = ${senderId}::int8 AND m.room_id = ${roomId}::int8 AND m.client_message_id = ${clientMessageId}::text`,
    )

  /** Appends the change event of a message, taking its number: the last statement of the caller's transaction. */
  const appendEvent = async (tx: SQL, roomId: number, messageId: number, kind: 'updated' | 'deleted', now: number) => {
    const [row] = await tx`
      WITH seq AS (${takeIds(tx, 1)})
      INSERT INTO message_events (id, room_id, message_id, kind, created_at)
      SELECT base + 1, ${roomId}::int8, ${messageId}::int8, ${kind}::text, ${now}::int8 FROM seq RETURNING id`
    return Number(row.id)
  }

  return {
    writer,
    postMessage: createGroupCommit(createPostBatch(db, files, byClientId)),

    async getMessage(roomId, messageId) {
      return recordOrNull(
        await db.run((sql) => sql`SELECT ${M(sql)} FROM messages m WHERE m.id = ${messageId}::int8 AND m.room_id = ${roomId}::int8`),
      )
    },

    /*
     * One statement: the room first (the event's foreign key check must not wait under the
     * counter), then the message row (locked by the UPDATE), its mentions, and last the number
     * and the event, only when the message was there. Mentions no longer named are deleted and
     * new ones inserted: two disjoint sets, so the order PostgreSQL runs the two CTEs in does
     * not matter (they share one snapshot). Autocommit: the counter is held to the end of
     * this one statement, with no COMMIT round trip after it.
     */
    async editMessage({ roomId, messageId, content, mentions, now }) {
      assertStorable(content)
      const rows: Row[] = await db.run(
        (tx) => tx`
          WITH r AS (${lockRoom(tx, roomId)}),
          m AS (
            UPDATE messages SET content = ${content}::text, mentions = ${jsonOrNull(mentions)}::text::jsonb, edited_at = ${now}::int8
            WHERE id = ${messageId}::int8 AND room_id = (SELECT id FROM r)
            ${tx.unsafe(RETURNING_MESSAGE)}
          ),
          unnamed AS (
            DELETE FROM mentions WHERE message_id = (SELECT id FROM m) AND NOT (user_id = ANY(${mentions}::int8[]))
          ),
          named AS (
            INSERT INTO mentions (message_id, user_id, room_id)
            SELECT DISTINCT m.id, u.id, m.room_id FROM m, unnest(${mentions}::int8[]) AS u(id)
            ON CONFLICT DO NOTHING
          ),
          seq AS (${takeIds(tx, 1, 'm')}),
          e AS (
            INSERT INTO message_events (id, room_id, message_id, kind, created_at)
            SELECT seq.base + 1, m.room_id, m.id, 'updated', ${now}::int8 FROM m, seq
            RETURNING id
          )
          SELECT ${M(tx)}, e.id AS "eventId" FROM m, e`,
      )
      const row = rows[0]
      return row ? { message: toRecord(row), eventId: Number(row.eventId) } : null
    },

    // Two statements: the deletion's cascades (mentions, reactions, files, outgoing calls) may
    // wait for locks, so they run before the counter is taken.
    async deleteMessage(roomId, messageId, now) {
      return db.tx(async (tx) => {
        const gone = await tx`
          WITH r AS (${lockRoom(tx, roomId)})
          DELETE FROM messages WHERE id = ${messageId}::int8 AND room_id = (SELECT id FROM r) RETURNING id`
        if (gone.length === 0) return null
        return { eventId: await appendEvent(tx, roomId, messageId, 'deleted', now) }
      })
    },

    /*
     * The message row is locked first (after its room), so reactions of one message change one
     * at a time and the JSON copy, computed here in first-use order, matches the table. The
     * change, the copy, the number and the event are then one statement, which writes nothing
     * when the reaction was already there (or already absent).
     */
    async setReaction({ roomId, messageId, userId, emoji, on, now }) {
      assertStorable(emoji)
      return db.tx(async (tx) => {
        const current = recordOrNull(
          await tx`
            WITH r AS (${lockRoom(tx, roomId)})
            SELECT ${M(tx)} FROM messages m WHERE m.id = ${messageId}::int8 AND m.room_id = (SELECT id FROM r)
            FOR NO KEY UPDATE OF m`,
        )
        if (!current) return null
        const reactions = withReaction(current.reactions, emoji, userId, on)
        const change = on
          ? tx`INSERT INTO reactions (message_id, emoji, user_id) VALUES (${messageId}::int8, ${emoji}::text, ${userId}::int8)
               ON CONFLICT DO NOTHING RETURNING 1`
          : tx`DELETE FROM reactions WHERE message_id = ${messageId}::int8 AND emoji = ${emoji}::text AND user_id = ${userId}::int8 RETURNING 1`
        const rows: Row[] = await tx`
          WITH changed AS (${change}),
          m AS (
            UPDATE messages SET reactions = ${jsonOrNull(reactions)}::text::jsonb
            WHERE id = ${messageId}::int8 AND EXISTS (SELECT 1 FROM changed)
            ${tx.unsafe(RETURNING_MESSAGE)}
          ),
          seq AS (${takeIds(tx, 1, 'm')}),
          e AS (
            INSERT INTO message_events (id, room_id, message_id, kind, created_at)
            SELECT seq.base + 1, m.room_id, m.id, 'updated', ${now}::int8 FROM m, seq
            RETURNING id
          )
          SELECT ${M(tx)}, e.id AS "eventId" FROM m, e`
        const row = rows[0]
        return row ? { message: toRecord(row), eventId: Number(row.eventId) } : { message: current, eventId: null }
      })
    },

    // The newest first, down the user's mentions; a room the user left no longer counts.
    async mentionsOf(userId, { beforeId, limit }) {
      const rows: Row[] = await db.run(
        (sql) => sql`
          SELECT ${M(sql)} FROM mentions x
          JOIN participants p ON p.room_id = x.room_id AND p.user_id = x.user_id
          JOIN messages m ON m.id = x.message_id
          WHERE x.user_id = ${userId}::int8 AND x.message_id < ${beforeId ?? NO_BOUND}::int8
          ORDER BY x.message_id DESC LIMIT ${bounded(limit)}`,
      )
      return toRecords(rows).reverse()
    },

    async findClientMessage(senderId, roomId, clientMessageId) {
      // No message can have been stored under it.
      if (clientMessageId.includes('\u0000')) return null
      return db.run((sql) => byClientId(sql, senderId, roomId, clientMessageId))
    },

    // Each a range of the (room_id, id) index.
    async history({ roomId, beforeId, afterId, limit }) {
      const n = bounded(limit)
      if (afterId !== undefined) {
        return toRecords(
          await db.run(
            (sql) => sql`SELECT ${M(sql)} FROM messages m
                         WHERE m.room_id = ${roomId}::int8 AND m.id > ${afterId}::int8 AND m.id < ${beforeId ?? NO_BOUND}::int8
                         ORDER BY m.id LIMIT ${n}`,
          ),
        )
      }
      const rows: Row[] = await db.run(
        (sql) => sql`SELECT ${M(sql)} FROM messages m
                     WHERE m.room_id = ${roomId}::int8 AND m.id < ${beforeId ?? NO_BOUND}::int8
                     ORDER BY m.id DESC LIMIT ${n}`,
      )
      return toRecords(rows).reverse()
    },

    async markRead(roomId, userId, messageId) {
      return db.run((sql) => markRead(sql, roomId, userId, messageId))
    },
  }
}
