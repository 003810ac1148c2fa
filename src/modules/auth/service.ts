import type { Bus } from '../../bus/bus'
import { userTopic } from '../../bus/bus'
import { AppError, badRequest, conflict, forbidden, unauthorized } from '../../errors'
import { createRateLimiter } from '../../http/rate-limit'
import type { Store, UserRecord } from '../../store/store'
import { codePoints, isBlank } from '../common/text'

export const USERNAME_PATTERN = /^[a-z0-9_.-]{3,32}$/
const DAY_MS = 86_400_000
/** Login attempts per username per minute (a burst of this many, then one every 6 s). */
const LOGIN_ATTEMPTS_PER_MINUTE = 10
/** argon2id at OWASP's recommended minimum (19 MiB, 2 passes): slow for attackers, ~60 ms here. */
const PASSWORD_HASH = { algorithm: 'argon2id', memoryCost: 19_456, timeCost: 2 } as const

export interface Session {
  id: number
  user: UserRecord
}

export interface AuthServiceOptions {
  store: Store
  bus: Bus
  allowRegistration: boolean
  sessionTtlDays: number
  now?: () => number
}

/** A random 256-bit token; only its SHA-256 is stored, so a leaked database opens no session. */
const newToken = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
const hashToken = (token: string) => new Bun.CryptoHasher('sha256').update(token).digest() as Uint8Array

export function createAuthService({ store, bus, allowRegistration, sessionTtlDays, now = Date.now }: AuthServiceOptions) {
  const ttlMs = sessionTtlDays * DAY_MS
  // Slows password guessing against one account, whoever sends the guesses.
  const loginLimiter = createRateLimiter(LOGIN_ATTEMPTS_PER_MINUTE, now)
  // Verified against when the username is unknown, so both failures take the same time.
  const decoyHash = Bun.password.hash('decoy password', PASSWORD_HASH)

  async function openSession(user: UserRecord) {
    const token = newToken()
    const at = now()
    await store.createSession({ userId: user.id, tokenHash: hashToken(token), now: at, expiresAt: at + ttlMs })
    return { user, token }
  }

  return {
    sessionMaxAgeSeconds: Math.floor(ttlMs / 1000),

    async register(input: { username: string; password: string; displayName?: string }) {
      if (!allowRegistration) throw forbidden('registration is closed on this server')
      const username = input.username.trim().toLowerCase()
      if (!USERNAME_PATTERN.test(username)) throw badRequest('username: 3-32 characters of a-z, 0-9, _ . -')
      const passwordLength = codePoints(input.password)
      if (passwordLength < 8 || passwordLength > 128) throw badRequest('password: 8-128 characters')
      const displayName = input.displayName?.trim() ?? username
      if (isBlank(displayName) || codePoints(displayName) > 64) throw badRequest('displayName: 1-64 characters, not blank')

      const passwordHash = await Bun.password.hash(input.password, PASSWORD_HASH)
      const user = await store.createUser({ username, displayName, passwordHash, now: now() })
      if (!user) throw conflict('username: already taken')
      return openSession(user)
    },

    async login(input: { username: string; password: string }) {
      const username = input.username.trim().toLowerCase()
      const wait = loginLimiter.take(username)
      if (wait > 0) throw new AppError('rate_limited', `too many sign-in attempts: try again in ${wait} s`, wait)
      const found = await store.findCredentials(username)
      const valid = await Bun.password.verify(input.password, found?.passwordHash ?? (await decoyHash))
      if (!found || !valid) throw unauthorized('wrong username or password')
      return openSession(found.user)
    },

    async logout(session: Session) {
      await store.deleteSession(session.id)
      bus.publish(userTopic(session.user.id), { type: 'session-revoked', userId: session.user.id, sessionId: session.id })
    },

    /** The session behind a token, or null; a session in use is kept alive. */
    async authenticate(token: string): Promise<Session | null> {
      if (token.length < 16 || token.length > 128) return null
      const at = now()
      const session = await store.findSession(hashToken(token), at)
      if (!session) return null
      // Extend at most once a day, so reads stay reads.
      if (session.expiresAt - at < ttlMs - DAY_MS) await store.extendSession(session.id, at + ttlMs)
      return { id: session.id, user: session.user }
    },
  }
}

export type AuthService = ReturnType<typeof createAuthService>

