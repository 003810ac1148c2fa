import { badRequest } from '../../errors'
import type { Store } from '../../store/store'
import { cursor, pageLimit } from '../common/paging'
import { codePoints } from '../common/text'
import { toMessage, type Message } from '../messages/model'
import type { RoomService } from '../rooms/service'
import { SEARCH_DEFAULT, SEARCH_MAX, SEARCH_MAX_CHARS, type SearchQuery } from './model'

/**
 * Message search. Scope: the rooms the caller is in now; or, with roomId, that room alone,
 * which the caller must be able to read (404 otherwise, like every room route). A public room
 * the caller has not joined is readable (its history is), so it can be searched by its id; it
 * is never in the scope of a search without roomId.
 */
export function createSearchService({ store, rooms }: { store: Store; rooms: RoomService }) {
  return {
    async search(userId: number, query: SearchQuery): Promise<Message[]> {
      const text = typeof query.q === 'string' ? query.q.trim() : ''
      const length = codePoints(text)
      if (length < 1 || length > SEARCH_MAX_CHARS) throw badRequest(`q: 1-${SEARCH_MAX_CHARS} characters after trimming`)
      const limit = pageLimit(query.limit, SEARCH_DEFAULT, SEARCH_MAX)
      const beforeId = cursor('lastMessageId', query.lastMessageId, 1)
      const roomId = cursor('roomId', query.roomId, 1)
      if (roomId !== undefined) await rooms.readable(roomId, userId)
      const found = await store.searchMessages({ userId, roomId, text, beforeId, limit })
      return found.map(toMessage)
    },
  }
}

export type SearchService = ReturnType<typeof createSearchService>
