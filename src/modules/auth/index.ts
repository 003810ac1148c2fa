import { Elysia, t } from 'elysia'
import type { Presence } from '../../bus/bus'
import { clientAddress } from '../../http/client-address'
import { errors } from '../common/model'
import { toUser } from '../users/model'
import { AuthResponse, LoginBody, MeResponse, RegisterBody } from './model'
import { SESSION_COOKIE, type AuthPlugin } from './plugin'
import type { AuthService } from './service'

const isHttps = (request: Request) =>
  request.url.startsWith('https:') || request.headers.get('x-forwarded-proto') === 'https'

/**
 * Register, login, logout, me. Register and login also set the HttpOnly session cookie, and
 * count against the client address's allowance (`trustProxy`: the address is X-Forwarded-For's).
 */
export function authRoutes({ auth, authPlugin, presence, trustProxy }: { auth: AuthService; authPlugin: AuthPlugin; presence: Presence; trustProxy: boolean }) {
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
          description: 'Returns a session token and sets the session cookie. 403 when registration is closed; 429 past RATE_LIMIT_AUTH_PER_MINUTE attempts (register and login together) from one client address; 503 with Retry-After while too many password hashes wait.',
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
        auth: true,
        response: { 204: t.Void(), ...errors(401, 403) },
        detail: { summary: 'Sign out', description: 'The token stops working at once and the streams opened with it close; other sessions stay.' },
      },
    )
    .get('/me', async ({ session }) => ({ user: await withOnline(session.user) }), {
      auth: true,
      response: { 200: MeResponse, ...errors(401) },
      detail: { summary: 'The signed-in user' },
    })
}
