import type { AttachmentRecord, MessageRecord, Reaction } from '../store'

const columns = (m: string) => `${m}id, ${m}room_id AS roomId, ${m}sender_id AS senderId, ${m}content,
  ${m}message_type AS messageType, ${m}created_at AS createdAt, ${m}client_message_id AS clientMessageId,
  ${m}edited_at AS editedAt, ${m}reply_to_id AS replyToId, ${m}mentions AS mentionsJson, ${m}reactions AS reactionsJson,
  ${m}attachments AS attachmentsJson`

/** The columns of a message (alias m) as every query reads them; `toRecord` turns a row into a record. */
export const MESSAGE = columns('m.')
/** The same, for a RETURNING clause (which takes no alias). */
export const MESSAGE_RETURNING = columns('')

export interface MessageRow extends Omit<MessageRecord, 'mentions' | 'reactions' | 'attachments'> {
  /** JSON copies kept on the row (NULL when empty), so a page of messages is one read. */
  mentionsJson: string | null
  reactionsJson: string | null
  attachmentsJson: string | null
}

export const toRecord = (row: MessageRow): MessageRecord => ({
  id: row.id,
  roomId: row.roomId,
  senderId: row.senderId,
  content: row.content,
  messageType: row.messageType,
  createdAt: row.createdAt,
  clientMessageId: row.clientMessageId,
  editedAt: row.editedAt,
  replyToId: row.replyToId,
  mentions: row.mentionsJson === null ? [] : (JSON.parse(row.mentionsJson) as number[]),
  reactions: row.reactionsJson === null ? [] : (JSON.parse(row.reactionsJson) as Reaction[]),
  attachments: row.attachmentsJson === null ? [] : (JSON.parse(row.attachmentsJson) as AttachmentRecord[]),
})

export const toRecords = (rows: MessageRow[]): MessageRecord[] => rows.map(toRecord)

/** The JSON column value of a list: NULL when empty. */
export const jsonOrNull = (list: readonly unknown[]): string | null => (list.length === 0 ? null : JSON.stringify(list))

/**
 * `reactions` with userId's `emoji` added or removed: a new emoji goes last (the order of first
 * use), user ids stay ascending, an emoji nobody gives any more goes away.
 */
export function withReaction(reactions: Reaction[], emoji: string, userId: number, on: boolean): Reaction[] {
  const index = reactions.findIndex((r) => r.emoji === emoji)
  if (on) {
    if (index < 0) return [...reactions, { emoji, userIds: [userId] }]
    const userIds = [...reactions[index]!.userIds, userId].sort((a, b) => a - b)
    return reactions.with(index, { emoji, userIds })
  }
  if (index < 0) return reactions
  const userIds = reactions[index]!.userIds.filter((id) => id !== userId)
  return userIds.length === 0 ? reactions.toSpliced(index, 1) : reactions.with(index, { emoji, userIds })
}
