import { roomTopic, userTopic, type Bus } from '../../bus/bus'
import { AppError, badRequest } from '../../errors'
import type { Store } from '../../store/store'
import { cursor, pageLimit, requiredCursor } from '../common/paging'
import { checkText } from '../common/text'
import type { RoomService } from '../rooms/service'
import { MESSAGE_MAX_CHARS, toMessage, type Message } from './model'
import { createRateLimiter } from '../../http/rate-limit'

export const HISTORY_DEFAULT = 50
export const HISTORY_MAX = 200
/** At most one typing event per user and room per this many ms; extra calls are absorbed. */
const TYPING_INTERVAL_MS = 1000

export interface MessageServiceOptions {
  store: Store
  bus: Bus
  rooms: RoomService
  messagesPerMinute: number
  now?: () => number
}

export function createMessageService({ store, bus, rooms, messagesPerMinute, now = Date.now }: MessageServiceOptions) {
  const postLimiter = createRateLimiter(messagesPerMinute, now)
  const typingSentAt = new Map<string, number>()

  return {
    async history(roomId: number, userId: number, query: { lastMessageId?: number; afterId?: number; limit?: number }): Promise<Message[]> {
      const limit = pageLimit(query.limit, HISTORY_DEFAULT, HISTORY_MAX)
      const beforeId = cursor('lastMessageId', query.lastMessageId, 1)
      const afterId = cursor('afterId', query.afterId, 0)
      await rooms.readable(roomId, userId)
      const rows = await store.history({ roomId, beforeId, afterId, limit })
      return rows.map(toMessage)
    },

    /** Persists, then publishes: once this returns, the message is stored (201) or was already (200). */
    async post(roomId: number, userId: number, input: { content: string; clientMessageId?: string }): Promise<{ message: Message; created: boolean }> {
      await rooms.participating(roomId, userId)
      const clientMessageId = input.clientMessageId ?? null
      if (clientMessageId !== null) {
        // A retry returns the first message whatever its content, and costs no rate.
        const first = await store.findClientMessage(userId, roomId, clientMessageId)
        if (first) return { message: toMessage(first), created: false }
      }
      const problem = checkText('content', input.content, MESSAGE_MAX_CHARS)
      if (problem) throw badRequest(problem)
      const wait = postLimiter.take(userId)
      if (wait > 0) throw new AppError('rate_limited', `too many messages: try again in ${wait} s`, wait)

      const { message, created } = await store.postMessage({ roomId, senderId: userId, content: input.content, clientMessageId, now: now() })
      if (created) bus.publish(roomTopic(roomId), { type: 'message', roomId, messageId: message.id })
      return { message: toMessage(message), created }
    },

    async markRead(roomId: number, userId: number, messageId: number): Promise<void> {
      messageId = requiredCursor('messageId', messageId, 0)
      await rooms.participating(roomId, userId)
      await store.markRead(roomId, userId, messageId)
      bus.publish(userTopic(userId), { type: 'read', roomId, userId, messageId })
    },

    async typing(roomId: number, userId: number): Promise<void> {
      await rooms.participating(roomId, userId)
      const key = `${userId}:${roomId}`
      const at = now()
      if (at - (typingSentAt.get(key) ?? 0) < TYPING_INTERVAL_MS) return
      if (typingSentAt.size > 10_000) typingSentAt.clear()
      typingSentAt.set(key, at)
      bus.publish(roomTopic(roomId), { type: 'typing', roomId, userId })
    },
  }
}

export type MessageService = ReturnType<typeof createMessageService>
