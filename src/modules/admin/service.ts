import { badRequest, conflict, notFound } from '../../errors'
import type { AccountRefusal, InviteRecord, Store, UserRecord } from '../../store/store'
import { pageLimit } from '../common/paging'
import { checkDisplayName, checkPassword, checkUsername, hashToken, newToken } from '../auth/rules'
import type { AuthService } from '../auth/service'

const HOUR_MS = 3_600_000
export const RESET_LINK_HOURS = 24
export const INVITE_DEFAULT_HOURS = 7 * 24
export const ADMIN_USERS_DEFAULT = 50
export const ADMIN_USERS_MAX = 200
const INVITES_LISTED = 200

export type Invite = InviteRecord & { url: string }

/** `<origin>/<page>#<token>`: the token after `#` never reaches a server's logs. */
const link = (publicUrl: string, page: 'reset' | 'join', token: string) => `${publicUrl.replace(/\/+$/, '')}/${page}#${token}`

function refused(result: AccountRefusal, what: string): never {
  throw result === 'missing' ? notFound('user') : conflict(`${what}: the last active admin must stay an active admin`)
}

/**
 * The administration rules, with plain arguments, for the HTTP routes and the command line.
 * `auth` supplies the password hash and tells this process's caches and streams what ended;
 * other processes learn it from the store's revocation log within a second.
 */
export function createAdminService({ store, auth, now = Date.now }: { store: Store; auth: AuthService; now?: () => number }) {
  async function existing(userId: number): Promise<UserRecord> {
    const user = await store.getUser(userId)
    if (!user) throw notFound('user')
    return user
  }

  async function setRole(userId: number, role: 'admin' | 'member'): Promise<UserRecord> {
    if ((await existing(userId)).role === 'bot') throw badRequest('role: a bot stays a bot')
    const result = await store.setRole(userId, role, now())
    if (typeof result === 'string') refused(result, 'role')
    auth.accountChanged(userId)
    return result
  }

  async function setDeactivated(userId: number, deactivated: boolean): Promise<UserRecord> {
    const result = await store.setDeactivated(userId, deactivated, now())
    if (typeof result === 'string') refused(result, 'deactivated')
    auth.accountChanged(userId)
    auth.sessionsEnded(userId, result.endedSessionIds)
    return result.user
  }

  return {
    setRole,
    setDeactivated,
    findUserByUsername: (username: string) => store.findUserByUsername(username.trim().toLowerCase()),

    /** Every user by id (deactivated ones too), optionally by a prefix of username or display name. */
    listUsers(query: { q?: string; limit?: number; afterId?: number }) {
      return store.listUsers({ prefix: query.q?.trim() ?? '', afterId: query.afterId ?? 0, limit: pageLimit(query.limit, ADMIN_USERS_DEFAULT, ADMIN_USERS_MAX) })
    },

    /** An account made by an admin (the CLI's `users add`); the first of a server is admin anyway. */
    async createUser(input: { username: string; password: string; role?: 'admin' | 'member'; displayName?: string }): Promise<UserRecord> {
      const username = checkUsername(input.username)
      checkPassword('password', input.password)
      const displayName = checkDisplayName(input.displayName, username)
      const user = await store.createUser({ username, displayName, passwordHash: await auth.hashPassword(input.password), now: now(), role: input.role ?? 'member' })
      if (!user) throw conflict('username: already taken')
      return user
    },

    /** PATCH /api/admin/users/{id}: the role first, then the status. */
    async update(userId: number, change: { role?: 'admin' | 'member'; deactivated?: boolean }): Promise<UserRecord> {
      let user = await existing(userId)
      if (change.role !== undefined && change.role !== user.role) user = await setRole(userId, change.role)
      if (change.deactivated !== undefined && change.deactivated !== (user.deactivatedAt !== null)) user = await setDeactivated(userId, change.deactivated)
      return user
    },

    /** A one-time link that sets a new password, for 24 h; the user's earlier links stop working. */
    async createPasswordReset(userId: number, publicUrl: string) {
      const user = await existing(userId)
      if (user.role === 'bot') throw badRequest('userId: a bot has no password')
      if (user.deactivatedAt !== null) throw conflict('userId: the user is deactivated: reactivate them first')
      const token = newToken()
      const at = now()
      const expiresAt = at + RESET_LINK_HOURS * HOUR_MS
      await store.createPasswordReset({ userId, tokenHash: hashToken(token), now: at, expiresAt })
      return { token, url: link(publicUrl, 'reset', token), expiresAt }
    },

    async createInvite(input: { expiresInHours?: number; maxUses?: number }, publicUrl: string, createdBy: number | null = null): Promise<Invite> {
      const at = now()
      const token = newToken()
      const invite = await store.createInvite({ token, createdBy, now: at, expiresAt: at + (input.expiresInHours ?? INVITE_DEFAULT_HOURS) * HOUR_MS, maxUses: input.maxUses ?? null })
      return { ...invite, url: link(publicUrl, 'join', token) }
    },
    async listInvites(publicUrl: string): Promise<Invite[]> {
      return (await store.liveInvites(now(), INVITES_LISTED)).map((invite) => ({ ...invite, url: link(publicUrl, 'join', invite.token) }))
    },
    async deleteInvite(token: string) {
      if (!(await store.deleteInvite(token))) throw notFound('invite')
    },

    /** A bot user and its access token (shown once); it cannot sign in with a password. */
    async createBot(input: { username: string; displayName?: string; webhookUrl?: string }) {
      const username = checkUsername(input.username)
      const displayName = checkDisplayName(input.displayName, username)
      const webhookUrl = input.webhookUrl === undefined ? null : checkWebhookUrl(input.webhookUrl)
      const token = newToken()
      // Signs each webhook call (HMAC-SHA256 of the body); shown only in this answer.
      const webhookSecret = webhookUrl === null ? null : newToken()
      const user = await store.createBot({ username, displayName, webhookUrl, webhookSecret, tokenHash: hashToken(token), now: now() })
      if (!user) throw conflict('username: already taken')
      return { user, token, webhookSecret }
    },
    /** Every bot by id (deactivated ones too), with its webhook URL, its last webhook try and its waiting calls. */
    listBots(query: { limit?: number; afterId?: number }) {
      return store.listBots(query.afterId ?? 0, pageLimit(query.limit, ADMIN_USERS_DEFAULT, ADMIN_USERS_MAX))
    },
    /** Deactivates a bot (its token ends with it). */
    async deleteBot(userId: number) {
      const user = await store.getUser(userId)
      if (!user || user.role !== 'bot') throw notFound('bot')
      await setDeactivated(userId, true)
    },
  }
}

function checkWebhookUrl(raw: string): string {
  let url: URL
  try {
    url = new URL(raw.trim())
  } catch {
    throw badRequest('webhookUrl: must be an http or https URL')
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw badRequest('webhookUrl: must be an http or https URL')
  if (url.href.length > 2048) throw badRequest('webhookUrl: at most 2048 characters')
  return url.href
}

export type AdminService = ReturnType<typeof createAdminService>
