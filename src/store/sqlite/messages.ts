import type { Database } from 'bun:sqlite'
import { createGroupCommit, type Outcome } from '../group-commit'
import type { MessageRecord, Store } from '../store'
import { MESSAGE, retryBusy, returning, statement } from './database'

export type MessageStore = Pick<
  Store,
  'postMessage' | 'findClientMessage' | 'history' | 'messagesAfter' | 'userMessagesAfter' | 'maxMessageId' | 'markRead'
>

/** What the other parts write through: the JOIN and LEAVE messages of membership changes. */
export interface MessageWriter {
  write(roomId: number, senderId: number, content: string, type: MessageRecord['messageType'], now: number, clientId: string | null): MessageRecord | null
  /** Moves userId's read marker in roomId up to messageId (never back). */
  markRead(roomId: number, userId: number, messageId: number): void
}

export function createMessageStore(db: Database): MessageStore & { writer: MessageWriter } {
  const q = <T>(sql: string) => statement<T>(db, sql)
  const insertMessage = q<MessageRecord>(
    `INSERT INTO messages (room_id, sender_id, content, message_type, created_at, client_message_id)
     VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (sender_id, room_id, client_message_id) WHERE client_message_id IS NOT NULL DO NOTHING
     RETURNING id, room_id AS roomId, sender_id AS senderId, content, message_type AS messageType,
       created_at AS createdAt, client_message_id AS clientMessageId`,
  )
  const messageByClientId = q<MessageRecord>(
    `SELECT ${MESSAGE} FROM messages m WHERE m.sender_id = ? AND m.room_id = ? AND m.client_message_id = ?`,
  )
  const newest = q<MessageRecord>(`SELECT ${MESSAGE} FROM messages m WHERE m.room_id = ? ORDER BY m.id DESC LIMIT ?`)
  const before = q<MessageRecord>(
    `SELECT ${MESSAGE} FROM messages m WHERE m.room_id = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?`,
  )
  const after = q<MessageRecord>(
    `SELECT ${MESSAGE} FROM messages m WHERE m.room_id = ? AND m.id > ? AND m.id < ? ORDER BY m.id LIMIT ?`,
  )
  const allAfter = q<MessageRecord>(`SELECT ${MESSAGE} FROM messages m WHERE m.id > ? ORDER BY m.id LIMIT ?`)
  const userAfter = q<MessageRecord>(
    `SELECT ${MESSAGE} FROM participants p JOIN messages m ON m.room_id = p.room_id AND m.id > ?
     WHERE p.user_id = ? ORDER BY m.id LIMIT ?`,
  )
  // AUTOINCREMENT's high-water mark survives deletes; max(id) alone would not.
  const maxId = q<{ id: number }>(
    `SELECT max(coalesce((SELECT max(id) FROM messages), 0),
                coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0)) AS id`,
  )
  const markRead = q(
    `UPDATE participants
     SET last_read_id = max(last_read_id, min(?1, (SELECT coalesce(max(id), 0) FROM messages WHERE room_id = ?2)))
     WHERE room_id = ?2 AND user_id = ?3`,
  )
  const markOwnRead = q(`UPDATE participants SET last_read_id = ?1 WHERE room_id = ?2 AND user_id = ?3 AND last_read_id < ?1`)

  const writer: MessageWriter = {
    write: (roomId, senderId, content, type, now, clientId) => returning(insertMessage, roomId, senderId, content, type, now, clientId),
    markRead: (roomId, userId, messageId) => void markRead.run(messageId, roomId, userId),
  }

  type PostInput = Parameters<Store['postMessage']>[0]
  const postOne = ({ roomId, senderId, content, clientMessageId, now }: PostInput) => {
    const message = writer.write(roomId, senderId, content, 'MESSAGE', now, clientMessageId)
    if (!message) return { message: messageByClientId.get(senderId, roomId, clientMessageId)!, created: false }
    // Whoever writes has read the room up to there: their unread count starts after it.
    markOwnRead.run(message.id, roomId, senderId)
    return { message, created: true }
  }
  const postBatchTx = db.transaction((inputs: PostInput[]) =>
    inputs.map((input): Outcome<{ message: MessageRecord; created: boolean }> => {
      // A failing statement is rolled back alone; the rest of the batch goes on.
      try {
        return { ok: postOne(input) }
      } catch (error) {
        return { error }
      }
    }),
  )

  return {
    writer,
    postMessage: createGroupCommit((inputs: PostInput[]) => retryBusy(() => postBatchTx.immediate(inputs))),
    async findClientMessage(senderId, roomId, clientMessageId) {
      return messageByClientId.get(senderId, roomId, clientMessageId)
    },
    async history({ roomId, beforeId, afterId, limit }) {
      if (afterId !== undefined) return after.all(roomId, afterId, beforeId ?? Number.MAX_SAFE_INTEGER, limit)
      const rows = beforeId !== undefined ? before.all(roomId, beforeId, limit) : newest.all(roomId, limit)
      return rows.reverse()
    },
    async messagesAfter(afterId, limit) {
      return allAfter.all(afterId, limit)
    },
    async userMessagesAfter(userId, afterId, limit) {
      return userAfter.all(afterId, userId, limit)
    },
    async maxMessageId() {
      return maxId.get()!.id
    },
    async markRead(roomId, userId, messageId) {
      return (await retryBusy(() => markRead.run(messageId, roomId, userId))).changes > 0
    },
  }
}
