import { Elysia, t } from 'elysia'
import type { Presence } from '../../bus/bus'
import type { UserRecord } from '../../store/store'
import type { AuthPlugin } from '../auth/plugin'
import { errors, iso } from '../common/model'
import { toUser, User } from '../users/model'
import { AdminUserQuery, BotListing, BotListQuery, BotResponse, CreateBotBody, toBotListing, CreateInviteBody, Invite, InviteParams, PasswordReset, toInvite, UpdateUserBody, UserParams } from './model'
import type { AdminService } from './service'

export interface AdminRouteOptions {
  admin: AdminService
  authPlugin: AuthPlugin
  presence: Presence
  /** PUBLIC_URL; unset: links use the request's own origin. */
  publicUrl: string | undefined
  trustProxy: boolean
}

/** /api/admin/*: admins only, signed in (members, bots and access tokens 403). */
export function adminRoutes({ admin, authPlugin, presence, publicUrl, trustProxy }: AdminRouteOptions) {
  /** The origin of the links the server makes: PUBLIC_URL, else the one the admin reached. */
  const origin = (request: Request) => {
    if (publicUrl) return publicUrl
    const url = new URL(request.url)
    if (!trustProxy) return url.origin
    const proto = request.headers.get('x-forwarded-proto')?.split(',')[0]?.trim() || url.protocol.slice(0, -1)
    const host = request.headers.get('x-forwarded-host')?.split(',')[0]?.trim() || url.host
    return `${proto}://${host}`
  }
  const users = async (list: UserRecord[]) => {
    const online = await presence.online(list.map((u) => u.id))
    return list.map((u) => toUser(u, online))
  }
  const one = async (user: UserRecord) => (await users([user]))[0]!

  return new Elysia({ prefix: '/api/admin', tags: ['admin'] })
    .use(authPlugin)
    .get('/users', async ({ query }) => users(await admin.listUsers(query)), {
      admin: true,
      query: AdminUserQuery,
      response: { 200: t.Array(User), ...errors(400, 401, 403) },
      detail: { summary: 'Every account', description: 'By id, deactivated ones included; the next page with afterId = the last id.' },
    })
    .patch('/users/:userId', async ({ params, body }) => one(await admin.update(params.userId, body)), {
      admin: true,
      params: UserParams,
      body: UpdateUserBody,
      parse: 'application/json',
      response: { 200: User, ...errors(400, 401, 403, 404, 409, 413, 415) },
      detail: {
        summary: 'Change a role or deactivate',
        description: "Deactivating ends the user's sessions, tokens and streams at once, on every instance; their messages stay. Demoting or deactivating the last active admin -> 409; a bot's role -> 400.",
      },
    })
    .post(
      '/users/:userId/password-reset',
      async ({ params, request, set }) => {
        const reset = await admin.createPasswordReset(params.userId, origin(request))
        set.status = 201
        return { ...reset, expiresAt: iso(reset.expiresAt) }
      },
      {
        admin: true,
        params: UserParams,
        response: { 201: PasswordReset, ...errors(400, 401, 403, 404, 409) },
        detail: {
          summary: 'Make a password reset link',
          description: "One-time, for 24 h; the user's earlier links stop working. Used with POST /api/auth/reset. A bot -> 400; a deactivated user -> 409.",
        },
      },
    )
    .post(
      '/invites',
      async ({ body, request, session, set }) => {
        set.status = 201
        return toInvite(await admin.createInvite(body, origin(request), session.user.id))
      },
      {
        admin: true,
        body: CreateInviteBody,
        parse: 'application/json',
        response: { 201: Invite, ...errors(400, 401, 403, 413, 415) },
        detail: { summary: 'Make an invite link', description: 'Registration with its token works even when registration is closed, until it expires or is used up.' },
      },
    )
    .get('/invites', async ({ request }) => (await admin.listInvites(origin(request))).map(toInvite), {
      admin: true,
      response: { 200: t.Array(Invite), ...errors(401, 403) },
      detail: { summary: 'The live invites', description: 'Neither expired nor used up; newest first.' },
    })
    .delete(
      '/invites/:token',
      async ({ params, set }) => {
        await admin.deleteInvite(params.token)
        set.status = 204
      },
      {
        admin: true,
        params: InviteParams,
        response: { 204: t.Void(), ...errors(400, 401, 403, 404) },
        detail: { summary: 'Revoke an invite' },
      },
    )
    .get(
      '/bots',
      async ({ query }) => {
        const bots = await admin.listBots(query)
        const online = await presence.online(bots.map((b) => b.user.id))
        return bots.map((bot) => toBotListing(bot, online))
      },
      {
        admin: true,
        query: BotListQuery,
        response: { 200: t.Array(BotListing), ...errors(400, 401, 403) },
        detail: { summary: 'Every bot', description: 'By id, deactivated ones included, each with its webhook URL, its last webhook try and its calls waiting in the queue.' },
      },
    )
    .post(
      '/bots',
      async ({ body, set }) => {
        const { user, token, webhookSecret } = await admin.createBot(body)
        set.status = 201
        return { user: await one(user), token, webhookSecret }
      },
      {
        admin: true,
        body: CreateBotBody,
        parse: 'application/json',
        response: { 201: BotResponse, ...errors(400, 401, 403, 409, 413, 415) },
        detail: { summary: 'Create a bot', description: 'A user with role bot and a bearer token for every /api/chat/* route; it cannot sign in with a password.' },
      },
    )
    .delete(
      '/bots/:userId',
      async ({ params, set }) => {
        await admin.deleteBot(params.userId)
        set.status = 204
      },
      {
        admin: true,
        params: UserParams,
        response: { 204: t.Void(), ...errors(400, 401, 403, 404, 409) },
        detail: { summary: 'Deactivate a bot', description: 'Its token stops working and its streams end; its messages stay. Not a bot -> 404.' },
      },
    )
}
