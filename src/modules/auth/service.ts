import type { Bus } from '../../bus/bus'
import { userTopic } from '../../bus/bus'
import { AppError, badRequest, conflict, forbidden, unauthorized } from '../../errors'
import { addressKey } from '../../http/client-address'
import { createRateLimiter } from '../../http/rate-limit'
import { InviteUnusableError, type SessionKind, type Store, type UserRecord } from '../../store/store'
import { createHashGate, defaultHashGateOptions } from './hash-gate'
import { checkDisplayName, checkPassword, checkUsername, hashToken, newToken } from './rules'
import { createSessionCache } from './session-cache'

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
/** An access token's last use is written at most this often, so reads stay reads. */
const TOKEN_TOUCH_MS = 60_000
const WRONG_CREDENTIALS = 'wrong username or password'

/** Runs an attempt; a refusal by a limit or the hash gate is answered only after the hold. */
async function held<T>(attempt: () => Promise<T>): Promise<T> {
  try {
    return await attempt()
  } catch (error) {
    if (error instanceof AppError && (error.code === 'rate_limited' || error.code === 'unavailable')) await Bun.sleep(REFUSAL_HOLD_MS)
    throw error
  }
}

/** Who a request acts as: a signed-in session, or an access token (`kind: 'token'`). */
export interface Session {
  id: number
  user: UserRecord
  kind: SessionKind
}

export interface AuthServiceOptions {
  store: Store
  bus: Bus
  allowRegistration: boolean
  /** Register, login and reset attempts per client address per minute, together; 0: no limit. */
  authAttemptsPerMinute: number
  sessionTtlDays: number
  /**
   * Keep recently used sessions in memory. Only where this instance sees every logout (the
   * in-process bus): elsewhere a logout on another instance must end the session at once.
   */
  cacheSessions: boolean
  now?: () => number
}

export function createAuthService({ store, bus, allowRegistration, authAttemptsPerMinute, sessionTtlDays, cacheSessions, now = Date.now }: AuthServiceOptions) {
  const ttlMs = sessionTtlDays * DAY_MS
  // Slows password guessing against one account, whoever sends the guesses.
  const loginLimiter = createRateLimiter(LOGIN_ATTEMPTS_PER_MINUTE, now)
  // Slows one sender, whatever accounts it tries or makes. Register, login and reset share the
  // allowance: each costs a password hash, and alternating must not multiply it.
  const addressLimiter = createRateLimiter(authAttemptsPerMinute, now)
  const throttleAddress = (from: string) => {
    const wait = addressLimiter.take(addressKey(from))
    if (wait > 0) throw new AppError('rate_limited', `too many sign-in and registration attempts from this address: try again in ${wait} s`, wait)
  }
  const cache = createSessionCache()
  // Every hash and verify waits its turn here, so a flood of sign-ins cannot take every core.
  const gate = createHashGate(defaultHashGateOptions())
  const hashPassword = (password: string) => gate.run(() => Bun.password.hash(password, PASSWORD_HASH))
  const verifyPassword = (password: string, hash: string) => gate.run(() => Bun.password.verify(password, hash))
  // Verified against when the username is unknown (or a bot's, which has no password), so
  // every failure takes the same time. Made on the first sign-in rather than at start-up,
  // which it would slow by a hash; a refusal by the gate is not kept, so the next one makes it.
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

  /** Ends the sessions' streams on every instance and forgets them here. */
  function sessionsEnded(userId: number, sessionIds: readonly number[]) {
    for (const sessionId of sessionIds) {
      cache.forgetSession(sessionId)
      bus.publish(userTopic(userId), { type: 'session-revoked', userId, sessionId })
    }
  }

  async function register(input: { username: string; password: string; displayName?: string; inviteToken?: string }, from: string) {
    const invited = input.inviteToken !== undefined
    if (!allowRegistration && !invited) throw forbidden('registration is closed on this server')
    throttleAddress(from)
    const username = checkUsername(input.username)
    checkPassword('password', input.password)
    const displayName = checkDisplayName(input.displayName, username)
    // Checked before the hash so a dead link costs nothing; counted again inside the insert.
    if (invited && !(await store.findLiveInvite(input.inviteToken!, now()))) throw inviteUnusable()

    const passwordHash = await hashPassword(input.password)
    const user = await store.createUser({ username, displayName, passwordHash, now: now(), inviteToken: input.inviteToken }).catch((error) => {
      throw error instanceof InviteUnusableError ? inviteUnusable() : error
    })
    if (!user) throw conflict('username: already taken')
    return openSession(user)
  }

  async function login(input: { username: string; password: string }, from: string) {
    throttleAddress(from)
    const username = input.username.trim().toLowerCase()
    const wait = loginLimiter.take(username)
    if (wait > 0) throw new AppError('rate_limited', `too many sign-in attempts: try again in ${wait} s`, wait)
    const found = await store.findCredentials(username)
    const hasPassword = found !== null && found.user.role !== 'bot'
    const valid = await verifyPassword(input.password, hasPassword ? found.passwordHash : await decoy())
    // A deactivated account hears what a wrong password hears, after the same work.
    if (!hasPassword || !valid || found.user.deactivatedAt !== null) throw unauthorized(WRONG_CREDENTIALS)
    return openSession(found.user)
  }

  async function resetPassword(input: { token: string; newPassword: string }, from: string) {
    throttleAddress(from)
    checkPassword('newPassword', input.newPassword)
    const resetHash = hashToken(input.token)
    // Checked before the hash so a dead link costs nothing; taken for good inside the write.
    if (!(await store.passwordResetLive(resetHash, now()))) throw resetUnusable()
    const passwordHash = await hashPassword(input.newPassword)
    const token = newToken()
    const at = now()
    const done = await store.resetPassword({
      tokenHash: resetHash,
      passwordHash,
      session: { tokenHash: hashToken(token), expiresAt: at + ttlMs },
      now: at,
    })
    if (!done) throw resetUnusable()
    sessionsEnded(done.user.id, done.endedSessionIds)
    return { user: done.user, token }
  }

  return {
    sessionMaxAgeSeconds: Math.floor(ttlMs / 1000),
    /** The slow salted hash of a password (through the hash gate); for admins and the CLI. */
    hashPassword,
    sessionsEnded,
    /** The account changed (role, name, status): cached sessions of it are read again. */
    accountChanged: (userId: number) => cache.forgetUser(userId),
    /** Another process ended a session (the revocation log). */
    forgetSession: (sessionId: number) => cache.forgetSession(sessionId),

    /** `from`: the client address (see http/client-address). */
    register: (...args: Parameters<typeof register>) => held(() => register(...args)),
    login: (...args: Parameters<typeof login>) => held(() => login(...args)),
    resetPassword: (...args: Parameters<typeof resetPassword>) => held(() => resetPassword(...args)),

    async logout(session: Session) {
      cache.forgetSession(session.id)
      if (await store.deleteSession(session.id, now())) sessionsEnded(session.user.id, [session.id])
    },

    async updateDisplayName(session: Session, raw: string): Promise<UserRecord> {
      const user = await store.updateDisplayName(session.user.id, checkDisplayName(raw, ''), now())
      if (!user) throw unauthorized('session is invalid or has ended')
      cache.forgetUser(user.id)
      return user
    },

    /**
     * A new password; every other signed-in session of the user ends, this one stays. Guesses
     * of the current password count against the account's sign-in allowance: a stolen session
     * is not a faster way to try passwords.
     */
    changePassword: (session: Session, input: { currentPassword: string; newPassword: string }) => held(async () => {
      checkPassword('newPassword', input.newPassword)
      const wait = loginLimiter.take(session.user.username)
      if (wait > 0) throw new AppError('rate_limited', `too many password attempts: try again in ${wait} s`, wait)
      const found = await store.findCredentials(session.user.username)
      if (!found || !(await verifyPassword(input.currentPassword, found.passwordHash))) throw forbidden('currentPassword: wrong password')
      const ended = await store.setPassword(session.user.id, await hashPassword(input.newPassword), session.id, now())
      sessionsEnded(session.user.id, ended)
    }),

    /** The session behind a token, or null; a session in use is kept alive. */
    async authenticate(token: string): Promise<Session | null> {
      if (token.length < 16 || token.length > 128) return null
      const at = now()
      // The cache's key is the token's SHA-256 in one native call (a quarter of hashing to bytes
      // and encoding them); the store is asked, by the bytes, only on a miss.
      const key = cacheSessions ? (Bun.SHA256.hash(token, 'base64') as string) : ''
      const cached = cacheSessions ? cache.get(key, at) : null
      if (cached) return cached
      const found = await store.findSession(hashToken(token), at)
      if (!found) return null
      if (found.kind === 'session') {
        // Extend at most once a day, so reads stay reads.
        if (found.expiresAt !== null && found.expiresAt - at < ttlMs - DAY_MS) await store.extendSession(found.id, at + ttlMs)
      } else if (found.lastUsedAt === null || at - found.lastUsedAt >= TOKEN_TOUCH_MS) {
        await store.touchSession(found.id, at)
      }
      const session: Session = { id: found.id, user: found.user, kind: found.kind }
      if (cacheSessions) cache.set(key, session, Math.min(at + cache.ttlMs, found.expiresAt ?? Infinity))
      return session
    },
  }
}

const inviteUnusable = () => forbidden('inviteToken: this invite is unknown, expired or used up')
const resetUnusable = () => badRequest('token: this reset link is unknown, used or expired')

export type AuthService = ReturnType<typeof createAuthService>
