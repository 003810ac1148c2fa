import { t } from 'elysia'
import { Id } from '../common/model'

export const SEARCH_MAX_CHARS = 200
export const SEARCH_DEFAULT = 20
export const SEARCH_MAX = 100

export const SearchQuery = t.Object({
  // The bounds hold after trimming, so the service checks them (a schema would count the spaces).
  q: t.String({
    description: `1-${SEARCH_MAX_CHARS} characters after trimming; every word must match the start of a word of the message, ignoring case and accents`,
    examples: ['deploy friday'],
  }),
  roomId: t.Optional({ ...Id, description: 'search this room alone (any room the caller may read)' }),
  lastMessageId: t.Optional({ ...Id, description: 'the hits just older than this id (scrolling back)' }),
  limit: t.Optional(t.Integer({ minimum: 1, description: `1-${SEARCH_MAX} (larger values are clamped), default ${SEARCH_DEFAULT}` })),
})
export type SearchQuery = typeof SearchQuery.static
