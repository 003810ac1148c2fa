import { t } from 'elysia'
import type { AttachmentRecord, MessageRecord } from '../../store/store'
import { Id, iso, Timestamp } from '../common/model'

export const MESSAGE_MAX_CHARS = 4000
/** A reaction's emoji: 1-16 code points (any text: `🎉`, `+1`), no white space or control characters. */
export const EMOJI_MAX_CHARS = 16

export const Reaction = t.Object({
  emoji: t.String({ examples: ['🎉'] }),
  count: t.Integer({ examples: [2] }),
  userIds: t.Array(t.Integer(), { description: 'who reacted, ascending' }),
})

/** A file: an upload, and once posted one of its message's attachments. */
export const Attachment = t.Object({
  id: t.Integer(),
  name: t.String({ examples: ['notes.pdf'] }),
  contentType: t.String({ examples: ['application/pdf'] }),
  size: t.Integer({ description: 'bytes' }),
  url: t.String({ examples: ['/api/chat/attachments/7/notes.pdf'] }),
  width: t.Union([t.Integer(), t.Null()], { description: 'pixels, for PNG, JPEG, GIF and WebP images' }),
  height: t.Union([t.Integer(), t.Null()]),
})

export type Attachment = typeof Attachment.static

export const toAttachment = (a: AttachmentRecord): Attachment => ({
  id: a.id,
  name: a.name,
  contentType: a.contentType,
  size: a.size,
  url: `/api/chat/attachments/${a.id}/${encodeURIComponent(a.name)}`,
  width: a.width,
  height: a.height,
})

/** At most this many files on one message. */
export const ATTACHMENTS_MAX = 10

export const Message = t.Object({
  id: t.Integer({ examples: [42] }),
  roomId: t.Integer({ examples: [1] }),
  senderId: t.Integer({ examples: [1] }),
  content: t.String({ examples: ['Hello, @alice!'] }),
  messageType: t.Union([t.Literal('MESSAGE'), t.Literal('JOIN'), t.Literal('LEAVE')]),
  createdAt: Timestamp,
  clientMessageId: t.Union([t.String(), t.Null()]),
  editedAt: t.Union([Timestamp, t.Null()], { description: 'time of the last edit, or null' }),
  replyToId: t.Union([t.Integer(), t.Null()], { description: 'the message of the same room it answers, or null' }),
  mentions: t.Array(t.Integer(), { description: 'ids of the room\'s participants named as @username in content, ascending' }),
  reactions: t.Array(Reaction, { description: 'in the order each emoji was first used on this message' }),
  attachments: t.Array(Attachment, { description: 'in the order given' }),
})
export type Message = typeof Message.static

const Content = t.String({ description: '1-4000 characters (Unicode code points), not blank; may be empty when the message has files', examples: ['Hello, @alice!'] })

export const PostMessageBody = t.Object({
  content: t.Optional(t.String({ description: '1-4000 characters (Unicode code points), not blank; may be empty or left out when attachmentIds names a file', examples: ['Hello, @alice!'] })),
  messageType: t.Optional(t.Literal('MESSAGE', { description: 'the only type a client may send' })),
  clientMessageId: t.Optional(
    t.String({ minLength: 1, maxLength: 64, description: 'chosen by the client; a repeat returns the first message (200) and stores nothing', examples: ['6f1c2f0e-8b0a-4c7e-9a51-2f6f1f3d9b10'] }),
  ),
  replyToId: t.Optional({ ...Id, description: 'a message of the same room, not deleted, that this one answers' }),
  attachmentIds: t.Optional(
    t.Array(Id, { minItems: 1, maxItems: ATTACHMENTS_MAX, description: "1-10 of the caller's uploads in this room not yet attached to a message, in the order shown" }),
  ),
})

export const EditMessageBody = t.Object({ content: Content })

export const MessageParams = t.Object({ roomId: Id, messageId: Id })

export const ReactionParams = t.Object({
  roomId: Id,
  messageId: Id,
  emoji: t.String({ description: 'URL-encoded; 1-16 code points, no white space or control characters', examples: ['🎉', '+1'] }),
})

export const HistoryQuery = t.Object({
  lastMessageId: t.Optional({ ...Id, description: 'the messages just older than this id (scrolling back)' }),
  afterId: t.Optional(t.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'the messages just newer than this id (catching up)' })),
  limit: t.Optional(t.Integer({ minimum: 1, description: '1-200 (larger values are clamped), default 50' })),
})

export const MentionsQuery = t.Object({
  lastMessageId: t.Optional({ ...Id, description: 'the mentions just older than this id (scrolling back)' }),
  limit: t.Optional(t.Integer({ minimum: 1, description: '1-200 (larger values are clamped), default 50' })),
})

export const ReadBody = t.Object({
  messageId: t.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'the newest message the caller has seen' }),
})

/** The JSON a client sees; encoded once per message for every stream. */
export const toMessage = (m: MessageRecord): Message => ({
  id: m.id,
  roomId: m.roomId,
  senderId: m.senderId,
  content: m.content,
  messageType: m.messageType,
  createdAt: iso(m.createdAt),
  clientMessageId: m.clientMessageId,
  editedAt: m.editedAt === null ? null : iso(m.editedAt),
  replyToId: m.replyToId,
  mentions: m.mentions,
  reactions: m.reactions.map((r) => ({ emoji: r.emoji, count: r.userIds.length, userIds: r.userIds })),
  attachments: m.attachments.map(toAttachment),
})
