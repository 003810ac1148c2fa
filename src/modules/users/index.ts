import { Elysia, t } from 'elysia'
import type { AuthPlugin } from '../auth/plugin'
import { errors } from '../common/model'
import { User, UserListQuery } from './model'
import type { UserService } from './service'

export function userRoutes({ users, authPlugin }: { users: UserService; authPlugin: AuthPlugin }) {
  return new Elysia({ prefix: '/api/chat', tags: ['users'] })
    .use(authPlugin)
    .get('/users', ({ query }) => users.list(query), {
      auth: true,
      query: UserListQuery,
      response: { 200: t.Array(User), ...errors(400, 401) },
      detail: { summary: 'Find people', description: 'Optionally filtered by a case-insensitive prefix of username or display name; the caller included, deactivated users left out.' },
    })
}
