import { t } from 'elysia'
import { Id, iso, Timestamp } from '../common/model'
import type { BotRecord } from '../../store/store'
import { toUser, User } from '../users/model'
import type { Invite as InviteRecord } from './service'

export const AdminUserQuery = t.Object({
  q: t.Optional(t.String({ maxLength: 64, description: 'case-insensitive prefix of username or display name' })),
  limit: t.Optional(t.Integer({ minimum: 1, description: '1-200 (larger values are clamped), default 50' })),
  afterId: t.Optional(t.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'users with a larger id (the next page)' })),
})

export const UserParams = t.Object({ userId: Id })

export const UpdateUserBody = t.Object({
  role: t.Optional(t.Union([t.Literal('admin'), t.Literal('member')], { description: 'a bot stays a bot (400)' })),
  deactivated: t.Optional(t.Boolean({ description: "true ends the user's sessions, tokens and streams at once" })),
})

export const PasswordReset = t.Object({
  token: t.String(),
  url: t.String({ description: '<PUBLIC_URL or the request origin>/reset#<token>' }),
  expiresAt: Timestamp,
})

export const CreateInviteBody = t.Object({
  expiresInHours: t.Optional(t.Integer({ minimum: 1, maximum: 8760, description: '1-8760, default 168 (7 days)' })),
  maxUses: t.Optional(t.Integer({ minimum: 1, maximum: 1_000_000, description: 'default: unlimited' })),
})

export const Invite = t.Object({
  token: t.String(),
  url: t.String({ description: '<PUBLIC_URL or the request origin>/join#<token>' }),
  createdAt: Timestamp,
  expiresAt: Timestamp,
  maxUses: t.Union([t.Integer(), t.Null()], { description: 'null: unlimited' }),
  uses: t.Integer(),
})

export const InviteParams = t.Object({ token: t.String({ maxLength: 128 }) })

export const CreateBotBody = t.Object({
  username: t.String({ description: '3-32 characters of a-z 0-9 _ . -', examples: ['deploy-bot'] }),
  displayName: t.Optional(t.String({ description: '1-64 characters, defaults to the username' })),
  webhookUrl: t.Optional(t.String({ maxLength: 2048, description: 'http or https: where messages for the bot are posted (integrations)' })),
})

export const BotResponse = t.Object({
  user: User,
  token: t.String({ description: "the bot's bearer token, shown only in this answer" }),
  webhookSecret: t.Union([t.String(), t.Null()], { description: 'signs each webhook call (X-Chat-Signature: sha256=<hex HMAC of the body>); shown only in this answer; null without webhookUrl' }),
})

export const BotListQuery = t.Object({
  limit: t.Optional(t.Integer({ minimum: 1, description: '1-200 (larger values are clamped), default 50' })),
  afterId: t.Optional(t.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'bots with a larger id (the next page)' })),
})

export const BotListing = t.Object({
  user: User,
  webhookUrl: t.Union([t.String(), t.Null()]),
  lastDelivery: t.Union([
    t.Object({
      at: Timestamp,
      ok: t.Boolean({ description: 'answered 2xx' }),
      status: t.Union([t.Integer(), t.Null()], { description: 'the HTTP status; null: no answer' }),
      error: t.Union([t.String(), t.Null()], { description: 'why there was no answer' }),
    }),
    t.Null(),
  ], { description: 'the last webhook try; null: none yet' }),
  pending: t.Integer({ description: 'webhook calls waiting in the queue' }),
})

export const toBotListing = (bot: BotRecord, online: ReadonlySet<number>) => ({
  user: toUser(bot.user, online),
  webhookUrl: bot.webhookUrl,
  lastDelivery: bot.lastDelivery && { ...bot.lastDelivery, at: iso(bot.lastDelivery.at) },
  pending: bot.pending,
})

export const toInvite = (invite: InviteRecord) => ({
  token: invite.token,
  url: invite.url,
  createdAt: iso(invite.createdAt),
  expiresAt: iso(invite.expiresAt),
  maxUses: invite.maxUses,
  uses: invite.uses,
})
