import { t } from 'elysia'
import type { UserRecord } from '../../store/store'
import { iso, Timestamp } from '../common/model'

export const User = t.Object({
  id: t.Integer({ examples: [1] }),
  username: t.String({ examples: ['alice'] }),
  displayName: t.String({ examples: ['Alice'] }),
  createdAt: Timestamp,
  online: t.Boolean({ description: 'has at least one open stream on any instance' }),
  role: t.Union([t.Literal('admin'), t.Literal('member'), t.Literal('bot')], { description: 'the first account of a server is admin' }),
  deactivated: t.Boolean({ description: 'cannot sign in; kept in the participant lists of their rooms' }),
})
export type User = typeof User.static

export const UserListQuery = t.Object({
  q: t.Optional(t.String({ maxLength: 64, description: 'case-insensitive prefix of username or display name' })),
  limit: t.Optional(t.Integer({ minimum: 1, description: '1-200 (larger values are clamped), default 50' })),
})

export const toUser = (user: UserRecord, online: ReadonlySet<number>): User => ({
  id: user.id,
  username: user.username,
  displayName: user.displayName,
  createdAt: iso(user.createdAt),
  online: online.has(user.id),
  role: user.role,
  deactivated: user.deactivatedAt !== null,
})
