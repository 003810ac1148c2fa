import type { Database } from 'bun:sqlite'
import { createGroupCommit, type Outcome } from '../group-commit'
import { NotParticipantError, type MessageRecord, type Store } from '../store'
import { bounded, retryBusy, returning, statement } from './database'
import type { EventWriter } from './events'
import type { FileWriter } from './files'
import { jsonOrNull, MESSAGE, MESSAGE_RETURNING, toRecord, toRecords, withReaction, type MessageRow } from './message-rows'
import type { MessageStore } from '../parts'

/** What the other parts write through: the JOIN and LEAVE messages of membership changes. */
export interface MessageWriter {
  write(roomId: number, senderId: number, content: string, type: MessageRecord['messageType'], now: number): MessageRecord
  /** Moves userId's read marker in roomId up to messageId (never back). */
  markRead(roomId: number, userId: number, messageId: number): void
}

type PostInput = Parameters<Store['postMessage']>[0]

export function createMessageStore(db: Database, events: EventWriter, files: FileWriter): MessageStore & { writer: MessageWriter } {
  const q = <T>(sql: string) => statement<T>(db, sql)
  // The id is the next number of the event sequence; the insert trigger moves the counter.
  // (`WHERE true`: SQLite's parser needs it between INSERT ... SELECT and ON CONFLICT.)
  const insertMessage = q<MessageRow>(
    `INSERT INTO messages (id, room_id, sender_id, content, message_type, created_at, client_message_id, reply_to_id, mentions, attachments)
     SELECT last_id + 1, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM event_sequence WHERE true
     ON CONFLICT (sender_id, room_id, client_message_id) WHERE client_message_id IS NOT NULL DO NOTHING
     RETURNING ${MESSAGE_RETURNING}`,
  )
  const insertMentions = q(`INSERT INTO mentions (message_id, user_id, room_id) SELECT ?1, value, ?2 FROM json_each(?3)`)
  const deleteMentions = q(`DELETE FROM mentions WHERE message_id = ?`)
  const messageByClientId = q<MessageRow>(
    `SELECT ${MESSAGE} FROM messages m WHERE m.sender_id = ? AND m.room_id = ? AND m.client_message_id = ?`,
  )
  const messageInRoom = q<MessageRow>(`SELECT ${MESSAGE} FROM messages m WHERE m.id = ? AND m.room_id = ?`)
  const updateContent = q<MessageRow>(
    `UPDATE messages SET content = ?, mentions = ?, edited_at = ? WHERE id = ? AND room_id = ? RETURNING ${MESSAGE_RETURNING}`,
  )
  const updateReactions = q<MessageRow>(`UPDATE messages SET reactions = ? WHERE id = ? RETURNING ${MESSAGE_RETURNING}`)
  const deleteMessage = q<{ id: number }>(`DELETE FROM messages WHERE id = ? AND room_id = ? RETURNING id`)
  const addReaction = q(`INSERT INTO reactions (message_id, emoji, user_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`)
  const removeReaction = q(`DELETE FROM reactions WHERE message_id = ? AND emoji = ? AND user_id = ?`)
  const newest = q<MessageRow>(`SELECT ${MESSAGE} FROM messages m WHERE m.room_id = ? ORDER BY m.id DESC LIMIT ?`)
  const before = q<MessageRow>(
    `SELECT ${MESSAGE} FROM messages m WHERE m.room_id = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?`,
  )
  const after = q<MessageRow>(
    `SELECT ${MESSAGE} FROM messages m WHERE m.room_id = ? AND m.id > ? AND m.id < ? ORDER BY m.id LIMIT ?`,
  )
  // The newest first, down the user's mentions; a room the user left no longer counts.
  const mentionsOf = q<MessageRow>(
    `SELECT ${MESSAGE} FROM mentions x
     JOIN participants p ON p.room_id = x.room_id AND p.user_id = x.user_id
     JOIN messages m ON m.id = x.message_id
     WHERE x.user_id = ? AND x.message_id < ? ORDER BY x.message_id DESC LIMIT ?`,
  )
  const markRead = q(
    `UPDATE participants
     SET last_read_id = max(last_read_id, min(?1, (SELECT coalesce(max(id), 0) FROM messages WHERE room_id = ?2)))
     WHERE room_id = ?2 AND user_id = ?3`,
  )
  const isParticipant = q<{ one: number }>(`SELECT 1 AS one FROM participants WHERE room_id = ? AND user_id = ?`)
  const markOwnRead = q(`UPDATE participants SET last_read_id = ?1 WHERE room_id = ?2 AND user_id = ?3 AND last_read_id < ?1`)
  // The batch's search indexing (migration 8): from the next id on, the insert trigger leaves
  // the index to `indexDeferred`, one statement over the batch's messages before it commits.
  const deferSearch = q(`INSERT INTO search_deferral (id, from_id) SELECT 1, last_id + 1 FROM event_sequence`)
  const indexDeferred = q(
    `INSERT INTO message_search (rowid, content, room)
     SELECT id, content, room_id FROM messages
     WHERE id >= (SELECT from_id FROM search_deferral) AND id >= (SELECT below_id FROM search_backlog) AND message_type = 'MESSAGE'`,
  )
  const endDeferral = q(`DELETE FROM search_deferral`)

  const insert = (input: PostInput, type: MessageRecord['messageType'], attachments: readonly unknown[] = []) => {
    const { roomId, senderId, content, clientMessageId, replyToId, mentions, now } = input
    const row = returning(insertMessage, roomId, senderId, content, type, now, clientMessageId, replyToId, jsonOrNull(mentions), jsonOrNull(attachments))
    if (row && mentions.length > 0) insertMentions.run(row.id, roomId, JSON.stringify(mentions))
    return row && toRecord(row)
  }

  const writer: MessageWriter = {
    write: (roomId, senderId, content, type, now) =>
      insert({ roomId, senderId, content, clientMessageId: null, replyToId: null, mentions: [], now }, type)!,
    markRead: (roomId, userId, messageId) => void markRead.run(messageId, roomId, userId),
  }

  const postOne = (input: PostInput) => {
    // The service checked it before; this is the check a leave or a room deletion committed
    // since cannot slip past (a deleted room would fail the insert's foreign key instead).
    if (!isParticipant.get(input.roomId, input.senderId)) throw new NotParticipantError('the sender is not in the room')
    const attachmentIds = input.attachmentIds ?? []
    if (attachmentIds.length > 0 && input.clientMessageId !== null) {
      // A retry of a post that took these files finds them taken: it gets the first message.
      const first = messageByClientId.get(input.senderId, input.roomId, input.clientMessageId)
      if (first) return { message: toRecord(first), created: false }
    }
    // Checked before anything is written: a refused post leaves nothing behind in the batch.
    const attachments = attachmentIds.length > 0 ? files.claimable(input.roomId, input.senderId, attachmentIds) : []
    const message = insert(input, 'MESSAGE', attachments)
    if (!message) return { message: toRecord(messageByClientId.get(input.senderId, input.roomId, input.clientMessageId)!), created: false }
    if (attachmentIds.length > 0) files.attach(message.id, attachmentIds)
    // Whoever writes has read the room up to there: their unread count starts after it.
    markOwnRead.run(message.id, input.roomId, input.senderId)
    return { message, created: true }
  }
  const postBatchTx = db.transaction((inputs: PostInput[]) => {
    deferSearch.run()
    const outcomes = inputs.map((input): Outcome<{ message: MessageRecord; created: boolean }> => {
      // A failing statement is rolled back alone; the rest of the batch goes on.
      try {
        return { ok: postOne(input) }
      } catch (error) {
        return { error }
      }
    })
    indexDeferred.run()
    endDeferral.run()
    return outcomes
  })

  type EditInput = Parameters<Store['editMessage']>[0]
  const editTx = db.transaction(({ roomId, messageId, content, mentions, now }: EditInput) => {
    const row = returning(updateContent, content, jsonOrNull(mentions), now, messageId, roomId)
    if (!row) return null
    deleteMentions.run(messageId)
    if (mentions.length > 0) insertMentions.run(messageId, roomId, JSON.stringify(mentions))
    return { message: toRecord(row), eventId: events.append(roomId, messageId, 'updated', now) }
  })

  // Its mentions and reactions go with it (foreign keys); its earlier events stay, and the
  // readers leave out the updates of a message that is gone.
  const deleteTx = db.transaction((roomId: number, messageId: number, now: number) => {
    if (!returning(deleteMessage, messageId, roomId)) return null
    return { eventId: events.append(roomId, messageId, 'deleted', now) }
  })

  type ReactionInput = Parameters<Store['setReaction']>[0]
  const reactionTx = db.transaction(({ roomId, messageId, userId, emoji, on, now }: ReactionInput) => {
    const row = messageInRoom.get(messageId, roomId)
    if (!row) return null
    const changed = (on ? addReaction : removeReaction).run(messageId, emoji, userId).changes > 0
    if (!changed) return { message: toRecord(row), eventId: null }
    const message = toRecord(row)
    const reactions = withReaction(message.reactions, emoji, userId, on)
    const updated = returning(updateReactions, jsonOrNull(reactions), messageId)!
    return { message: toRecord(updated), eventId: events.append(roomId, messageId, 'updated', now) }
  })

  return {
    writer,
    postMessage: createGroupCommit((inputs: PostInput[]) => retryBusy(() => postBatchTx.immediate(inputs))),
    async getMessage(roomId, messageId) {
      const row = messageInRoom.get(messageId, roomId)
      return row && toRecord(row)
    },
    async editMessage(input) {
      return retryBusy(() => editTx.immediate(input))
    },
    async deleteMessage(roomId, messageId, now) {
      return retryBusy(() => deleteTx.immediate(roomId, messageId, now))
    },
    async setReaction(input) {
      return retryBusy(() => reactionTx.immediate(input))
    },
    async mentionsOf(userId, { beforeId, limit }) {
      return toRecords(mentionsOf.all(userId, beforeId ?? Number.MAX_SAFE_INTEGER, bounded(limit))).reverse()
    },
    async findClientMessage(senderId, roomId, clientMessageId) {
      const row = messageByClientId.get(senderId, roomId, clientMessageId)
      return row && toRecord(row)
    },
    async history({ roomId, beforeId, afterId, limit }) {
      const n = bounded(limit)
      if (afterId !== undefined) return toRecords(after.all(roomId, afterId, beforeId ?? Number.MAX_SAFE_INTEGER, n))
      const rows = beforeId !== undefined ? before.all(roomId, beforeId, n) : newest.all(roomId, n)
      return toRecords(rows).reverse()
    },
    async markRead(roomId, userId, messageId) {
      return (await retryBusy(() => markRead.run(messageId, roomId, userId))).changes > 0
    },
  }
}
