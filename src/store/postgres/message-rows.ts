import type { SQL } from 'bun'
import type { AttachmentRecord, MessageRecord, MessageType, Reaction, RoomRecord, RoomType, Visibility } from '../store'
import { num, numOrNull } from './database'

export { withReaction } from '../sqlite/message-rows'

/** A row as Bun's client returns it: int8 columns as strings, jsonb parsed. */
export type Row = Record<string, unknown>

/**
 * The columns of a message (alias m) as every query reads them, under quoted aliases (which
 * keep their case); `toRecord` turns such a row into a record. The JSON copies of mentions,
 * reactions and files on the row (NULL when empty) make a page of messages one read.
 */
export const MESSAGE_COLUMNS = `m.id, m.room_id AS "roomId", m.sender_id AS "senderId", m.content, m.message_type AS "messageType",
  m.created_at AS "createdAt", m.client_message_id AS "clientMessageId", m.edited_at AS "editedAt", m.reply_to_id AS "replyToId",
  m.mentions, m.reactions, m.attachments`
/** The same as a fragment of a tagged query. */
export const messageColumns = (sql: SQL) => sql.unsafe(MESSAGE_COLUMNS)
/**
 * The stored columns a data-modifying CTE returns for MESSAGE_COLUMNS to read (`RETURNING *`
 * would carry the search column's tsvector along too).
 */
export const RETURNING_MESSAGE = `RETURNING id, room_id, sender_id, content, message_type, created_at, client_message_id, edited_at,
  reply_to_id, mentions, reactions, attachments`

/** jsonb arrives parsed; numbers inside it are JSON numbers already. */
const list = <T>(value: unknown): T[] => (value === null || value === undefined ? [] : (value as T[]))

export const toRecord = (row: Row): MessageRecord => ({
  id: num(row.id),
  roomId: num(row.roomId),
  senderId: num(row.senderId),
  content: row.content as string,
  messageType: row.messageType as MessageType,
  createdAt: num(row.createdAt),
  clientMessageId: (row.clientMessageId as string | null) ?? null,
  editedAt: numOrNull(row.editedAt),
  replyToId: numOrNull(row.replyToId),
  mentions: list<number>(row.mentions),
  reactions: list<Reaction>(row.reactions),
  attachments: list<AttachmentRecord>(row.attachments),
})

export const toRecords = (rows: Row[]): MessageRecord[] => rows.map(toRecord)
export const recordOrNull = (rows: Row[]): MessageRecord | null => (rows[0] ? toRecord(rows[0]) : null)

/** A jsonb parameter of a list: NULL when empty (as the columns store it), else its JSON text. */
export const jsonOrNull = (values: readonly unknown[]): string | null => (values.length === 0 ? null : JSON.stringify(values))

/**
 * PostgreSQL text cannot hold NUL (SQLite's can): such a value is refused before it reaches a
 * statement, as a client's bad input (`status` 400: the HTTP layer's validation_failed), not
 * as the database's error (a 500, and in a post batch the failure of every post with it).
 */
export class UnstorableTextError extends RangeError {
  readonly status = 400
}

export function assertStorable(...values: (string | null | undefined)[]): void {
  for (const value of values) if (value?.includes('\u0000')) throw new UnstorableTextError('text with a NUL character cannot be stored')
}

/** The columns of a room (alias r). */
export const ROOM_COLUMNS = `r.id, r.name, r.type, r.visibility, r.owner_id AS "ownerId", r.created_at AS "createdAt"`
export const roomColumns = (sql: SQL) => sql.unsafe(ROOM_COLUMNS)

export const toRoom = (row: Row): RoomRecord => ({
  id: num(row.id),
  name: row.name as string,
  type: row.type as RoomType,
  visibility: row.visibility as Visibility,
  ownerId: num(row.ownerId),
  createdAt: num(row.createdAt),
})
