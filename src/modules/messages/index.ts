import { Elysia, t } from 'elysia'
import type { AuthPlugin } from '../auth/plugin'
import { errors } from '../common/model'
import { RoomParams } from '../rooms/model'
import { HistoryQuery, Message, PostMessageBody, ReadBody } from './model'
import type { MessageService } from './service'

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
          description: '201 when stored. A repeat of a clientMessageId returns the first message with 200 and stores nothing. 429 with Retry-After past the rate limit.',
        },
      },
    )
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
