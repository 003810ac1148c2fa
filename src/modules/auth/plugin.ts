import { Elysia } from 'elysia'
import { forbidden, unauthorized } from '../../errors'
import type { AuthService, Session } from './service'

export const SESSION_COOKIE = 'chat_session'

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

/** The session token of a request: the bearer header first, else the session cookie. */
export function requestToken(request: Request): { token: string; viaCookie: boolean } | null {
  const header = request.headers.get('authorization')
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header)
    return match ? { token: match[1]!, viaCookie: false } : null
  }
  const cookies = request.headers.get('cookie')
  if (!cookies) return null
  for (const part of cookies.split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) return { token: part.slice(eq + 1).trim(), viaCookie: true }
  }
  return null
}

/**
 * Cross-site request forgery guard for cookie-authenticated writes: SameSite=Lax already keeps
 * the cookie off cross-site POSTs in browsers; this also refuses any write whose Origin is not
 * this server (a browser always sends Origin on a POST).
 */
function checkSameOrigin(request: Request) {
  const origin = request.headers.get('origin')
  if (origin === null) {
    if (request.headers.get('sec-fetch-site') === 'cross-site') throw forbidden('cross-site request refused')
    return
  }
  const host = request.headers.get('x-forwarded-host') ?? request.headers.get('host')
  let originHost: string
  try {
    originHost = new URL(origin).host
  } catch {
    throw forbidden('cross-site request refused')
  }
  if (originHost !== host) throw forbidden('cross-site request refused')
}

/**
 * Route guards, one per route: `{ auth: true }` resolves `session` (a signed-in session or an
 * access token) or answers 401; `{ signedIn: true }` also refuses an access token (403: what
 * only a person at the keyboard may do); `{ admin: true }` also refuses anyone but an admin.
 */
export function createAuthPlugin(auth: AuthService) {
  async function resolveSession(request: Request): Promise<Session> {
    const found = requestToken(request)
    if (!found) throw unauthorized()
    if (found.viaCookie && !SAFE_METHODS.has(request.method)) checkSameOrigin(request)
    const session = await auth.authenticate(found.token)
    if (!session) throw unauthorized('session is invalid or has ended')
    return session
  }
  async function signedIn(request: Request): Promise<Session> {
    const session = await resolveSession(request)
    if (session.kind !== 'session') throw forbidden('an access token cannot do this: sign in')
    return session
  }

  return new Elysia({ name: 'auth', seed: auth }).macro({
    auth: {
      async resolve({ request }): Promise<{ session: Session }> {
        return { session: await resolveSession(request) }
      },
    },
    signedIn: {
      async resolve({ request }): Promise<{ session: Session }> {
        return { session: await signedIn(request) }
      },
    },
    admin: {
      async resolve({ request }): Promise<{ session: Session }> {
        const session = await signedIn(request)
        if (session.user.role !== 'admin') throw forbidden('administrators only')
        return { session }
      },
    },
  })
}

export type AuthPlugin = ReturnType<typeof createAuthPlugin>
