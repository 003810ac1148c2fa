import type { Presence } from '../../bus/bus'
import type { Store } from '../../store/store'
import { pageLimit } from '../common/paging'
import { toUser, type User } from './model'

export const USER_LIST_DEFAULT = 50
export const USER_LIST_MAX = 200

export function createUserService({ store, presence }: { store: Store; presence: Presence }) {
  return {
    async list(query: { q?: string; limit?: number }): Promise<User[]> {
      const limit = pageLimit(query.limit, USER_LIST_DEFAULT, USER_LIST_MAX)
      const users = await store.searchUsers(query.q?.trim() ?? '', limit)
      const online = await presence.online(users.map((u) => u.id))
      return users.map((u) => toUser(u, online))
    },
  }
}

export type UserService = ReturnType<typeof createUserService>
