import { roomTopic, userTopic, type Bus } from '../../bus/bus'
import { AppError, badRequest, forbidden, notFound } from '../../errors'
import { NotParticipantError, UnattachableFilesError, type MessageRecord, type RoomRecord, type Store, type UserRecord } from '../../store/store'
import { cursor, pageLimit, requiredCursor } from '../common/paging'
import { checkText, codePoints } from '../common/text'
import type { RoomService } from '../rooms/service'
import { mentionNames, resolveMentions } from './mentions'
import { EMOJI_MAX_CHARS, MESSAGE_MAX_CHARS, toMessage, type Message } from './model'
import { createRateLimiter } from '../../http/rate-limit'

export const HISTORY_DEFAULT = 50
export const HISTORY_MAX = 200
export const MENTIONS_DEFAULT = 50
export const MENTIONS_MAX = 200
/** At most one typing event per user and room per this many ms; extra calls are absorbed. */
const TYPING_INTERVAL_MS = 1000

export interface MessageServiceOptions {
  store: Store
  bus: Bus
  rooms: RoomService
  messagesPerMinute: number
  /** Removes from disk the files of what was just deleted (files/sweep.ts). */
  releaseFiles?: () => void
  now?: () => number
}

/** Whether a user is an administrator. */
const isAdmin = (user: UserRecord): boolean => user.role === 'admin'

/**
 * Who may delete a message: its sender, the room's owner, or an admin who is a participant. A
 * direct room's `ownerId` is only the pair's lower id, not a moderator: there neither of the two
 * may delete the other's words.
 */
const mayDelete = (user: UserRecord, room: RoomRecord & { member: boolean }, message: MessageRecord): boolean =>
  message.senderId === user.id || (room.type === 'group' && room.ownerId === user.id) || (room.member && isAdmin(user))

/** What is wrong with a message's text, if anything: a message with files may have none. */
const contentProblem = (content: string, hasFiles: boolean): string | null =>
  hasFiles && content === '' ? null : checkText('content', content, MESSAGE_MAX_CHARS)

/** A reaction's emoji (already URL-decoded): 1-16 code points, no white space or control characters. */
function checkEmoji(emoji: string): void {
  const length = codePoints(emoji)
  if (length < 1 || length > EMOJI_MAX_CHARS) throw badRequest(`emoji: 1-${EMOJI_MAX_CHARS} characters`)
  if (/[\p{White_Space}\p{Cc}]/u.test(emoji)) throw badRequest('emoji: no white space or control characters')
}

export function createMessageService({ store, bus, rooms, messagesPerMinute, releaseFiles = () => {}, now = Date.now }: MessageServiceOptions) {
  const postLimiter = createRateLimiter(messagesPerMinute, now)
  const typingSentAt = new Map<string, number>()

  /** Every stored change is news for the room's streams; the pump reads it by its event id. */
  const announce = (roomId: number, eventId: number) => bus.publish(roomTopic(roomId), { type: 'message', roomId, messageId: eventId })

  /** The participants `content` mentions; the room's usernames are read only when it has an `@name`. */
  async function mentionsIn(roomId: number, content: string): Promise<number[]> {
    const names = mentionNames(content)
    return names.length === 0 ? [] : resolveMentions(names, await store.participantUsernames(roomId))
  }

  /** A message of a room the user may read; 404 for both an invisible room and a missing message. */
  async function readableMessage(roomId: number, messageId: number, userId: number) {
    const room = await rooms.readable(roomId, userId)
    const message = await store.getMessage(roomId, messageId)
    if (!message) throw notFound('message')
    return { room, message }
  }

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
    async post(roomId: number, userId: number, input: { content?: string; clientMessageId?: string; replyToId?: number; attachmentIds?: number[] }): Promise<{ message: Message; created: boolean }> {
      await rooms.participating(roomId, userId)
      const clientMessageId = input.clientMessageId ?? null
      if (clientMessageId !== null) {
        // A retry returns the first message whatever its content, and costs no rate.
        const first = await store.findClientMessage(userId, roomId, clientMessageId)
        if (first) return { message: toMessage(first), created: false }
      }
      const attachmentIds = input.attachmentIds ?? []
      const content = input.content ?? ''
      if (input.content === undefined && attachmentIds.length === 0) throw badRequest('content: is required')
      const problem = contentProblem(content, attachmentIds.length > 0)
      if (problem) throw badRequest(problem)
      const replyToId = input.replyToId ?? null
      // Checked before it is stored, not with it: an original deleted in between reads as a
      // reply to a deleted message, the same as one deleted right after.
      if (replyToId !== null && !(await store.getMessage(roomId, replyToId))) throw badRequest('replyToId: no such message in this room')
      const wait = postLimiter.take(userId)
      if (wait > 0) throw new AppError('rate_limited', `too many messages: try again in ${wait} s`, wait)

      const mentions = await mentionsIn(roomId, content)
      const { message, created } = await store
        .postMessage({ roomId, senderId: userId, content, clientMessageId, replyToId, mentions, attachmentIds, now: now() })
        .catch(async (error: unknown) => {
          if (error instanceof UnattachableFilesError) throw badRequest("attachmentIds: each must be one of the caller's uploads in this room, not yet attached, named once")
          // The caller left, or the room went, since the check above: answer as that check now would.
          if (error instanceof NotParticipantError) await rooms.participating(roomId, userId)
          throw error instanceof NotParticipantError ? forbidden('only participants can do this; join the room first') : error
        })
      if (created) announce(roomId, message.id)
      return { message: toMessage(message), created }
    },

    /** Only its sender edits a MESSAGE; mentions are recomputed from the new content (empty: files only). */
    async edit(roomId: number, messageId: number, userId: number, input: { content: string }): Promise<Message> {
      const { message } = await readableMessage(roomId, messageId, userId)
      if (message.senderId !== userId) throw forbidden('only its sender can edit a message')
      if (message.messageType !== 'MESSAGE') throw badRequest(`messageId: a ${message.messageType} message cannot be edited`)
      const problem = contentProblem(input.content, message.attachments.length > 0)
      if (problem) throw badRequest(problem)
      const mentions = await mentionsIn(roomId, input.content)
      const edited = await store.editMessage({ roomId, messageId, content: input.content, mentions, now: now() })
      if (!edited) throw notFound('message')
      announce(roomId, edited.eventId)
      return toMessage(edited.message)
    },

    async remove(roomId: number, messageId: number, user: UserRecord): Promise<void> {
      const { room, message } = await readableMessage(roomId, messageId, user.id)
      if (!mayDelete(user, room, message)) throw forbidden('only its sender, the room owner or an admin in the room can delete a message')
      const deleted = await store.deleteMessage(roomId, messageId, now())
      if (!deleted) throw notFound('message')
      announce(roomId, deleted.eventId)
      releaseFiles()
    },

    /** Adds (on) or takes back the caller's reaction; a change that changes nothing sends no event. */
    async react(roomId: number, messageId: number, userId: number, emoji: string, on: boolean): Promise<Message> {
      await rooms.participating(roomId, userId)
      checkEmoji(emoji)
      const result = await store.setReaction({ roomId, messageId, userId, emoji, on, now: now() })
      if (!result) throw notFound('message')
      if (result.eventId !== null) announce(roomId, result.eventId)
      return toMessage(result.message)
    },

    /** Messages mentioning the caller in the rooms they are in, ascending, newest `limit`. */
    async mentionsOf(userId: number, query: { lastMessageId?: number; limit?: number }): Promise<Message[]> {
      const limit = pageLimit(query.limit, MENTIONS_DEFAULT, MENTIONS_MAX)
      const beforeId = cursor('lastMessageId', query.lastMessageId, 1)
      return (await store.mentionsOf(userId, { beforeId, limit })).map(toMessage)
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
