import { Elysia, t } from 'elysia'
import type { Presence } from '../../bus/bus'
import { clientAddress } from '../../http/client-address'
import { errors } from '../common/model'
import { toUser } from '../users/model'
import { AccessToken, AuthResponse, ChangePasswordBody, CreateTokenBody, LoginBody, MeResponse, NewAccessToken, RegisterBody, ResetBody, TokenParams, toToken, UpdateMeBody } from './model'
import { SESSION_COOKIE, type AuthPlugin } from './plugin'
import type { AuthService } from './service'
import type { TokenService } from './tokens'

const isHttps = (request: Request) =>
  request.url.startsWith('https:') || request.headers.get('x-forwarded-proto') === 'https'

/**
 * Register, login, logout, me, the account (name, password, reset) and access tokens. Register,
 * login and reset also set the HttpOnly session cookie, and count against the client address's
 * allowance (`trustProxy`: the address is X-Forwarded-For's).
 */
export function authRoutes({ auth, tokens, authPlugin, presence, trustProxy }: { auth: AuthService; tokens: TokenService; authPlugin: AuthPlugin; presence: Presence; trustProxy: boolean }) {
  const sessionCookie = (token: string, request: Request, maxAge: number) =>
    [`${SESSION_COOKIE}=${token}`, 'Path=/', 'HttpOnly', 'SameSite=Lax', `Max-Age=${maxAge}`, ...(isHttps(request) ? ['Secure'] : [])].join('; ')

  const withOnline = async (user: Parameters<typeof toUser>[0]) => toUser(user, await presence.online([user.id]))

  return new Elysia({ prefix: '/api/auth', tags: ['auth'] })
    .use(authPlugin)
    .post(
      '/register',
      async ({ body, request, server, set }) => {
        const { user, token } = await auth.register(body, clientAddress(request, server, trustProxy))
        set.status = 201
        set.headers['set-cookie'] = sessionCookie(token, request, auth.sessionMaxAgeSeconds)
        return { user: await withOnline(user), token }
      },
      {
        body: RegisterBody,
        parse: 'application/json',
        response: { 201: AuthResponse, ...errors(400, 403, 409, 413, 415, 429, 503) },
        detail: {
          summary: 'Create an account',
          description: 'Returns a session token and sets the session cookie. 403 when registration is closed (unless `inviteToken` names a live invite), or when the invite is unknown, expired or used up; 429 past RATE_LIMIT_AUTH_PER_MINUTE attempts (register and login together) from one client address; 503 with Retry-After while too many password hashes wait.',
          security: [],
        },
      },
    )
    .post(
      '/login',
      async ({ body, request, server, set }) => {
        const { user, token } = await auth.login(body, clientAddress(request, server, trustProxy))
        set.headers['set-cookie'] = sessionCookie(token, request, auth.sessionMaxAgeSeconds)
        return { user: await withOnline(user), token }
      },
      {
        body: LoginBody,
        parse: 'application/json',
        response: { 200: AuthResponse, ...errors(400, 401, 413, 415, 429, 503) },
        detail: {
          summary: 'Sign in',
          description: 'Same 401 for an unknown user and a wrong password. 429 past 10 attempts a minute on one account, or past RATE_LIMIT_AUTH_PER_MINUTE attempts (register and login together) from one client address; 503 with Retry-After while too many password hashes wait.',
          security: [],
        },
      },
    )
    .post(
      '/logout',
      async ({ session, request, set }) => {
        await auth.logout(session)
        set.status = 204
        set.headers['set-cookie'] = sessionCookie('', request, 0)
      },
      {
        signedIn: true,
        response: { 204: t.Void(), ...errors(401, 403) },
        detail: { summary: 'Sign out', description: 'The token stops working at once and the streams opened with it close; other sessions stay. An access token is revoked with DELETE /api/auth/tokens/{id} instead (403).' },
      },
    )
    .get('/me', async ({ session }) => ({ user: await withOnline(session.user) }), {
      auth: true,
      response: { 200: MeResponse, ...errors(401) },
      detail: { summary: 'The signed-in user' },
    })
    .patch('/me', async ({ session, body }) => ({ user: await withOnline(await auth.updateDisplayName(session, body.displayName)) }), {
      auth: true,
      body: UpdateMeBody,
      parse: 'application/json',
      response: { 200: MeResponse, ...errors(400, 401, 403, 413, 415) },
      detail: { summary: 'Change the display name' },
    })
    .post(
      '/password',
      async ({ session, body, set }) => {
        await auth.changePassword(session, body)
        set.status = 204
      },
      {
        signedIn: true,
        body: ChangePasswordBody,
        parse: 'application/json',
        response: { 204: t.Void(), ...errors(400, 401, 403, 413, 415, 429, 503) },
        detail: {
          summary: 'Change the password',
          description: "Every other signed-in session of the user ends at once (their streams close); this one stays, and so do access tokens. A wrong currentPassword, or an access token, -> 403. Attempts count against the account's sign-in allowance (429).",
        },
      },
    )
    .post(
      '/reset',
      async ({ body, request, server, set }) => {
        const { user, token } = await auth.resetPassword(body, clientAddress(request, server, trustProxy))
        set.headers['set-cookie'] = sessionCookie(token, request, auth.sessionMaxAgeSeconds)
        return { user: await withOnline(user), token }
      },
      {
        body: ResetBody,
        parse: 'application/json',
        response: { 200: AuthResponse, ...errors(400, 413, 415, 429, 503) },
        detail: {
          summary: 'Set a new password with a reset link',
          description: 'Signs in with the new password and ends every other signed-in session of the user. A used, expired or unknown token -> 400. Counts against the address allowance like login.',
          security: [],
        },
      },
    )
    .post(
      '/tokens',
      async ({ session, body, set }) => {
        const created = await tokens.create(session, body)
        set.status = 201
        return { ...toToken(created), token: created.token }
      },
      {
        signedIn: true,
        body: CreateTokenBody,
        parse: 'application/json',
        response: { 201: NewAccessToken, ...errors(400, 401, 403, 409, 413, 415) },
        detail: { summary: 'Create an access token', description: 'A long-lived bearer token for scripts, shown only in this answer. An access token cannot create one (403). At most 200 live tokens per user (409: revoke one first).' },
      },
    )
    .get('/tokens', async ({ session }) => (await tokens.list(session)).map(toToken), {
      auth: true,
      response: { 200: t.Array(AccessToken), ...errors(401) },
      detail: { summary: "The caller's access tokens", description: 'Without the tokens themselves; newest first.' },
    })
    .delete(
      '/tokens/:id',
      async ({ session, params, set }) => {
        await tokens.revoke(session, params.id)
        set.status = 204
      },
      {
        auth: true,
        params: TokenParams,
        response: { 204: t.Void(), ...errors(400, 401, 403, 404) },
        detail: { summary: 'Revoke an access token', description: "It stops working at once and the streams opened with it close. Another user's token -> 404." },
      },
    )
}
