import { Elysia, t } from 'elysia'
import type { AuthPlugin } from '../auth/plugin'
import { badRequest } from '../../errors'
import { errors } from '../common/model'
import { RoomParams } from '../rooms/model'
import { EditMessageBody, HistoryQuery, Message, MessageParams, PostMessageBody, ReactionParams, ReadBody } from './model'
import type { MessageService } from './service'

/**
 * The emoji as the client sent it: the path's last segment, strictly URL-decoded. The router's
 * own decoding turns a malformed escape (`%E0%A4%A`) into U+FFFD, which would store a reaction
 * nobody chose; here it is a 400.
 */
function emojiOf(request: Request): string {
  const path = new URL(request.url).pathname
  try {
    return decodeURIComponent(path.slice(path.lastIndexOf('/') + 1))
  } catch {
    throw badRequest('emoji: malformed URL encoding')
  }
}

export function messageRoutes({ messages, authPlugin }: { messages: MessageService; authPlugin: AuthPlugin }) {
  return new Elysia({ prefix: '/api/chat/rooms/:roomId', tags: ['messages'] })
    .use(authPlugin)
    .get('/messages', ({ params, query, session }) => messages.history(params.roomId, session.user.id, query), {
      auth: true,
      params: RoomParams,
      query: HistoryQuery,
      response: { 200: t.Array(Message), ...errors(400, 401, 404) },
      detail: {
        summary: 'Message history',
        description: 'Ascending ids. No cursor: the newest `limit`. lastMessageId=X: the `limit` just older than X. afterId=X: the `limit` just newer than X.',
      },
    })
    .post(
      '/messages',
      async ({ params, body, session, set }) => {
        const { message, created } = await messages.post(params.roomId, session.user.id, body)
        set.status = created ? 201 : 200
        return message
      },
      {
        auth: true,
        params: RoomParams,
        body: PostMessageBody,
        parse: 'application/json',
        response: { 201: Message, 200: Message, ...errors(400, 401, 403, 404, 413, 415, 429) },
        detail: {
          summary: 'Post a message',
          description:
            '201 when stored. A repeat of a clientMessageId returns the first message with 200 and stores nothing. `replyToId`: a message of this room that is not deleted, else 400. `attachmentIds`: 1-10 of the caller\'s uploads in this room that no message took yet, else 400; with them `content` may be empty or left out. `mentions` is computed from `@username`s of participants. 429 with Retry-After past the rate limit.',
        },
      },
    )
    .patch('/messages/:messageId', ({ params, body, session }) => messages.edit(params.roomId, params.messageId, session.user.id, body), {
      auth: true,
      params: MessageParams,
      body: EditMessageBody,
      parse: 'application/json',
      response: { 200: Message, ...errors(400, 401, 403, 404, 413, 415) },
      detail: {
        summary: 'Edit a message',
        description: 'Its sender only (others 403); MESSAGEs only (JOIN/LEAVE 400); content rules as for posting (so it may be empty only on a message with files). Sets editedAt, recomputes mentions, and sends message-updated. An unknown or deleted message -> 404.',
      },
    })
    .delete(
      '/messages/:messageId',
      async ({ params, session, set }) => {
        await messages.remove(params.roomId, params.messageId, session.user)
        set.status = 204
      },
      {
        auth: true,
        params: MessageParams,
        response: { 204: t.Void(), ...errors(400, 401, 403, 404) },
        detail: {
          summary: 'Delete a message',
          description: 'By its sender, the room owner, or an admin who is a participant (others 403). Gone from history, lastMessage, unreadCount and mentionCount; sends message-deleted. Deleting it again -> 404.',
        },
      },
    )
    .put('/messages/:messageId/reactions/:emoji', ({ params, request, session }) => messages.react(params.roomId, params.messageId, session.user.id, emojiOf(request), true), {
      auth: true,
      params: ReactionParams,
      response: { 200: Message, ...errors(400, 401, 403, 404) },
      detail: {
        summary: 'Add a reaction',
        description: 'Participants only. `emoji` (URL-encoded): 1-16 code points, no white space or control characters. Adding one the caller already gave changes nothing and sends no event.',
      },
    })
    .delete('/messages/:messageId/reactions/:emoji', ({ params, request, session }) => messages.react(params.roomId, params.messageId, session.user.id, emojiOf(request), false), {
      auth: true,
      params: ReactionParams,
      response: { 200: Message, ...errors(400, 401, 403, 404) },
      detail: {
        summary: 'Take back a reaction',
        description: 'Participants only. Removing one the caller did not give changes nothing and sends no event.',
      },
    })
    .post(
      '/read',
      async ({ params, body, session, set }) => {
        await messages.markRead(params.roomId, session.user.id, body.messageId)
        set.status = 204
      },
      {
        auth: true,
        params: RoomParams,
        body: ReadBody,
        parse: 'application/json',
        response: { 204: t.Void(), ...errors(400, 401, 403, 404, 413, 415) },
        detail: { summary: 'Move the read marker', description: 'Forward only; drives unreadCount and clears the badge in the caller\'s other tabs.' },
      },
    )
    .post(
      '/typing',
      async ({ params, session, set }) => {
        await messages.typing(params.roomId, session.user.id)
        set.status = 204
      },
      {
        auth: true,
        params: RoomParams,
        response: { 204: t.Void(), ...errors(400, 401, 403, 404) },
        detail: { summary: 'Say you are typing', description: "The other participants' streams get a typing event (at most one a second per user and room)." },
      },
    )
}
