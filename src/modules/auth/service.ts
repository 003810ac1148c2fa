import type { Bus } from '../../bus/bus'
import { userTopic } from '../../bus/bus'
import { AppError, badRequest, conflict, forbidden, unauthorized } from '../../errors'
import { addressKey } from '../../http/client-address'
import { createRateLimiter } from '../../http/rate-limit'
import type { Store, UserRecord } from '../../store/store'
import { codePoints, isBlank } from '../common/text'
import { createHashGate, defaultHashGateOptions } from './hash-gate'

export const USERNAME_PATTERN = /^[a-z0-9_.-]{3,32}$/
const DAY_MS = 86_400_000
/** Login attempts per username per minute (a burst of this many, then one every 6 s). */
const LOGIN_ATTEMPTS_PER_MINUTE = 10
/** argon2id at OWASP's recommended minimum (19 MiB, 2 passes): slow for attackers, ~60 ms here. */
const PASSWORD_HASH = { algorithm: 'argon2id', memoryCost: 19_456, timeCost: 2 } as const
/**
 * How long a refused sign-in or registration (429, 503) is held before it is answered.
 * Answered at once, a refusal costs the sender nothing, and a flood that asks again as soon
 * as it hears back turns into thousands of requests a second (scripts/login-flood.ts, 200
 * clients from one address at the default limit: 2,800-7,600 429s a second and delivery p50
 * 64-198 ms; held, ~190 a second and p50 1.1-3.1 ms, as without the flood).
 */
const REFUSAL_HOLD_MS = 1000

/** Runs an attempt; a refusal by a limit or the hash gate is answered only after the hold. */
async function held<T>(attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt()
  } catch (error) {
    if (error instanceof AppError && (error.code === 'rate_limited' || error.code === 'unavailable')) await Bun.sleep(REFUSAL_HOLD_MS)
    throw error
  }
}

export interface Session {
  id: number
  user: UserRecord
}

export interface AuthServiceOptions {
  store: Store
  bus: Bus
  allowRegistration: boolean
  /** Register and login attempts per client address per minute, together; 0: no limit. */
  authAttemptsPerMinute: number
  sessionTtlDays: number
  /**
   * Keep recently used sessions in memory. Only where this instance sees every logout (the
   * in-process bus): elsewhere a logout on another instance must end the session at once.
   */
  cacheSessions: boolean
  now?: () => number
}

/** How long a cached session is trusted before the store is asked again. */
const SESSION_CACHE_MS = 60_000
const SESSION_CACHE_MAX = 10_000

/** A random 256-bit token; only its SHA-256 is stored, so a leaked database opens no session. */
const newToken = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
const hashToken = (token: string) => new Bun.CryptoHasher('sha256').update(token).digest() as Uint8Array

export function createAuthService({ store, bus, allowRegistration, authAttemptsPerMinute, sessionTtlDays, cacheSessions, now = Date.now }: AuthServiceOptions) {
  const ttlMs = sessionTtlDays * DAY_MS
  // Slows password guessing against one account, whoever sends the guesses.
  const loginLimiter = createRateLimiter(LOGIN_ATTEMPTS_PER_MINUTE, now)
  // Slows one sender, whatever accounts it tries or makes. Register and login share the
  // allowance: both cost a password hash, and alternating must not double it.
  const addressLimiter = createRateLimiter(authAttemptsPerMinute, now)
  const throttleAddress = (from: string) => {
    const wait = addressLimiter.take(addressKey(from))
    if (wait > 0) throw new AppError('rate_limited', `too many sign-in and registration attempts from this address: try again in ${wait} s`, wait)
  }
  const cache = new Map<string, { session: Session; until: number }>()
  // Every hash and verify waits its turn here, so a flood of sign-ins cannot take every core.
  const gate = createHashGate(defaultHashGateOptions())
  const hashPassword = (password: string) => gate.run(() => Bun.password.hash(password, PASSWORD_HASH))
  const verifyPassword = (password: string, hash: string) => gate.run(() => Bun.password.verify(password, hash))
  // Verified against when the username is unknown, so both failures take the same time.
  // Made on the first sign-in rather than at start-up, which it would slow by a hash; a
  // refusal by the gate is not kept, so the next sign-in makes it.
  let decoyHash: Promise<string> | undefined
  const decoy = () =>
    (decoyHash ??= hashPassword('decoy password').catch((error) => {
      decoyHash = undefined
      throw error
    }))

  async function openSession(user: UserRecord) {
    const token = newToken()
    const at = now()
    await store.createSession({ userId: user.id, tokenHash: hashToken(token), now: at, expiresAt: at + ttlMs })
    return { user, token }
  }

  async function register(input: { username: string; password: string; displayName?: string }, from: string) {
    if (!allowRegistration) throw forbidden('registration is closed on this server')
    throttleAddress(from)
    const username = input.username.trim().toLowerCase()
    if (!USERNAME_PATTERN.test(username)) throw badRequest('username: 3-32 characters of a-z, 0-9, _ . -')
    const passwordLength = codePoints(input.password)
    if (passwordLength < 8 || passwordLength > 128) throw badRequest('password: 8-128 characters')
    const displayName = input.displayName?.trim() ?? username
    if (isBlank(displayName) || codePoints(displayName) > 64) throw badRequest('displayName: 1-64 characters, not blank')

    const passwordHash = await hashPassword(input.password)
    const user = await store.createUser({ username, displayName, passwordHash, now: now() })
    if (!user) throw conflict('username: already taken')
    return openSession(user)
  }

  async function login(input: { username: string; password: string }, from: string) {
    throttleAddress(from)
    const username = input.username.trim().toLowerCase()
    const wait = loginLimiter.take(username)
    if (wait > 0) throw new AppError('rate_limited', `too many sign-in attempts: try again in ${wait} s`, wait)
    const found = await store.findCredentials(username)
    const valid = await verifyPassword(input.password, found?.passwordHash ?? (await decoy()))
    if (!found || !valid) throw unauthorized('wrong username or password')
    return openSession(found.user)
  }

  return {
    sessionMaxAgeSeconds: Math.floor(ttlMs / 1000),

    /** `from`: the client address (see http/client-address). */
    register: (...args: Parameters<typeof register>) => held(() => register(...args)),
    login: (...args: Parameters<typeof login>) => held(() => login(...args)),

    async logout(session: Session) {
      for (const [key, entry] of cache) if (entry.session.id === session.id) cache.delete(key)
      await store.deleteSession(session.id)
      bus.publish(userTopic(session.user.id), { type: 'session-revoked', userId: session.user.id, sessionId: session.id })
    },

    /** The session behind a token, or null; a session in use is kept alive. */
    async authenticate(token: string): Promise<Session | null> {
      if (token.length < 16 || token.length > 128) return null
      const at = now()
      const hash = hashToken(token)
      const key = cacheSessions ? Buffer.from(hash).toString('base64') : ''
      const cached = cacheSessions ? cache.get(key) : undefined
      if (cached && cached.until > at) return cached.session
      const found = await store.findSession(hash, at)
      if (!found) return null
      // Extend at most once a day, so reads stay reads.
      if (found.expiresAt - at < ttlMs - DAY_MS) await store.extendSession(found.id, at + ttlMs)
      const session = { id: found.id, user: found.user }
      if (cacheSessions) {
        if (cache.size >= SESSION_CACHE_MAX) cache.clear()
        cache.set(key, { session, until: Math.min(at + SESSION_CACHE_MS, found.expiresAt) })
      }
      return session
    },
  }
}

export type AuthService = ReturnType<typeof createAuthService>

