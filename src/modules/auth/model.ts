import { t } from 'elysia'
import { User } from '../users/model'

export const RegisterBody = t.Object({
  username: t.String({ description: '3-32 characters of a-z 0-9 _ . - (case-insensitive: stored lower-case)', examples: ['alice'] }),
  password: t.String({ description: '8-128 characters', examples: ['correct horse battery'] }),
  displayName: t.Optional(t.String({ description: '1-64 characters, defaults to the username', examples: ['Alice'] })),
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
