import { t } from 'elysia'
import type { MessageRecord } from '../../store/store'
import { Id, iso, Timestamp } from '../common/model'

export const MESSAGE_MAX_CHARS = 4000

export const Message = t.Object({
  id: t.Integer({ examples: [42] }),
  roomId: t.Integer({ examples: [1] }),
  senderId: t.Integer({ examples: [1] }),
  content: t.String({ examples: ['Hello, team!'] }),
  messageType: t.Union([t.Literal('MESSAGE'), t.Literal('JOIN'), t.Literal('LEAVE')]),
  createdAt: Timestamp,
  clientMessageId: t.Union([t.String(), t.Null()]),
})
export type Message = typeof Message.static

export const PostMessageBody = t.Object({
  content: t.String({ minLength: 1, description: '1-4000 characters (Unicode code points), not blank', examples: ['Hello, team!'] }),
  messageType: t.Optional(t.Literal('MESSAGE', { description: 'the only type a client may send' })),
  clientMessageId: t.Optional(
    t.String({ minLength: 1, maxLength: 64, description: 'chosen by the client; a repeat returns the first message (200) and stores nothing', examples: ['6f1c2f0e-8b0a-4c7e-9a51-2f6f1f3d9b10'] }),
  ),
})

export const HistoryQuery = t.Object({
  lastMessageId: t.Optional({ ...Id, description: 'the messages just older than this id (scrolling back)' }),
  afterId: t.Optional(t.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'the messages just newer than this id (catching up)' })),
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
})
