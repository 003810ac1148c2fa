import { Elysia, t } from 'elysia'
import type { AuthPlugin } from '../auth/plugin'
import { errors } from '../common/model'
import { Message, MentionsQuery } from '../messages/model'
import type { MessageService } from '../messages/service'

/** The caller's mentions across their rooms (a reading of messages, so the message service answers it). */
export function mentionRoutes({ messages, authPlugin }: { messages: MessageService; authPlugin: AuthPlugin }) {
  return new Elysia({ prefix: '/api/chat', tags: ['messages'] })
    .use(authPlugin)
    .get('/mentions', ({ query, session }) => messages.mentionsOf(session.user.id, query), {
      auth: true,
      query: MentionsQuery,
      response: { 200: t.Array(Message), ...errors(400, 401) },
      detail: {
        summary: 'Messages that mention the caller',
        description: 'In the rooms the caller is in now, ascending ids, the newest `limit` (default 50, max 200); lastMessageId=X scrolls back as for history.',
      },
    })
}
