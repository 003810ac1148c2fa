import { Elysia, t } from 'elysia'
import type { AuthPlugin } from '../auth/plugin'
import { errors } from '../common/model'
import { Message } from '../messages/model'
import { SearchQuery } from './model'
import type { SearchService } from './service'

export function searchRoutes({ search, authPlugin }: { search: SearchService; authPlugin: AuthPlugin }) {
  return new Elysia({ prefix: '/api/chat', tags: ['messages'] })
    .use(authPlugin)
    .get('/search', ({ query, session }) => search.search(session.user.id, query), {
      auth: true,
      query: SearchQuery,
      response: { 200: t.Array(Message), ...errors(400, 401, 404) },
      detail: {
        summary: 'Search messages',
        description:
          'Newest first. Every word of q must match the start of a word of the message (case and accents ignored; `Cafe` finds `café`, `deploy` finds `deployment`); q is never query syntax. Scope: the rooms the caller is in now, or roomId alone (any room the caller may read, else 404). lastMessageId=X: the hits older than X. Deleted messages never match; an edited one matches its current content.',
      },
    })
}
