import { t } from 'elysia'
import type { TokenRecord } from '../../store/store'
import { Id, iso, Timestamp } from '../common/model'
import { User } from '../users/model'

export const RegisterBody = t.Object({
  username: t.String({ description: '3-32 characters of a-z 0-9 _ . - (case-insensitive: stored lower-case)', examples: ['alice'] }),
  password: t.String({ description: '8-128 characters', examples: ['correct horse battery'] }),
  displayName: t.Optional(t.String({ description: '1-64 characters, defaults to the username', examples: ['Alice'] })),
  inviteToken: t.Optional(t.String({ maxLength: 128, description: 'an invite token (the part after `/join#`): registers even when registration is closed' })),
})

export const LoginBody = t.Object({
  username: t.String({ examples: ['alice'] }),
  password: t.String({ examples: ['correct horse battery'] }),
})

export const AuthResponse = t.Object({
  user: User,
  token: t.String({ description: 'bearer token: send as `Authorization: Bearer <token>`' }),
})

export const MeResponse = t.Object({ user: User })

export const UpdateMeBody = t.Object({
  displayName: t.String({ description: '1-64 characters, not blank', examples: ['Alice'] }),
})

export const ChangePasswordBody = t.Object({
  currentPassword: t.String(),
  newPassword: t.String({ description: '8-128 characters' }),
})

export const ResetBody = t.Object({
  token: t.String({ maxLength: 128, description: 'the part after `/reset#` of a reset link' }),
  newPassword: t.String({ description: '8-128 characters' }),
})

export const CreateTokenBody = t.Object({
  name: t.String({ description: '1-64 characters, not blank', examples: ['deploy script'] }),
  expiresInDays: t.Optional(t.Integer({ minimum: 1, maximum: 3650, description: '1-3650; absent: never expires' })),
})

const TokenFields = {
  id: t.Integer({ examples: [1] }),
  name: t.String({ examples: ['deploy script'] }),
  createdAt: Timestamp,
  expiresAt: t.Union([Timestamp, t.Null()], { description: 'null: never' }),
  lastUsedAt: t.Union([Timestamp, t.Null()], { description: 'updated at most once a minute' }),
}

export const AccessToken = t.Object(TokenFields)
export const NewAccessToken = t.Object({ ...TokenFields, token: t.String({ description: 'shown only in this answer: send as `Authorization: Bearer <token>`' }) })
export const TokenParams = t.Object({ id: Id })

export const toToken = (token: TokenRecord) => ({
  id: token.id,
  name: token.name,
  createdAt: iso(token.createdAt),
  expiresAt: token.expiresAt === null ? null : iso(token.expiresAt),
  lastUsedAt: token.lastUsedAt === null ? null : iso(token.lastUsedAt),
})
