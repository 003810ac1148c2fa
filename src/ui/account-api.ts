/** The account, administration and push routes of the API (see API.md), as the client calls them. */
import { request } from './api.ts'
import type { User } from './types.ts'

/** A user as the administration routes give it. */
export interface Person extends User {
  role: 'admin' | 'member' | 'bot'
  deactivated: boolean
}

/** A bot's last webhook call, as `GET /api/admin/bots` gives it (see /work/notes/web-admin-bots.md). */
export interface Delivery {
  at: string
  ok: boolean
  status: number | null
  error: string | null
}

export interface Bot {
  user: Person
  webhookUrl: string | null
  lastDelivery?: Delivery | null
  pending?: number
}

export interface AccessToken {
  id: number
  name: string
  createdAt: string
  expiresAt: string | null
  lastUsedAt: string | null
}

export interface Invite {
  token: string
  url: string
  createdAt: string
  expiresAt: string
  /** Null: unlimited. */
  maxUses: number | null
  uses: number
}

export interface PasswordReset {
  token: string
  url: string
  expiresAt: string
}

export interface PushSubscriptionBody {
  endpoint: string
  keys: { p256dh: string; auth: string }
}

/** The most the administration lists ask for at once (API.md's largest limit). */
export const ADMIN_PAGE = 200

export const accountApi = {
  updateMe: (displayName: string) => request<{ user: User }>('PATCH', '/api/auth/me', { displayName }),
  changePassword: (currentPassword: string, newPassword: string) =>
    request<void>('POST', '/api/auth/password', { currentPassword, newPassword }),
  tokens: () => request<AccessToken[]>('GET', '/api/auth/tokens'),
  createToken: (name: string, expiresInDays?: number) =>
    request<AccessToken & { token: string }>('POST', '/api/auth/tokens', { name, expiresInDays }),
  revokeToken: (id: number) => request<void>('DELETE', `/api/auth/tokens/${id}`),

  register: (inviteToken: string, username: string, password: string, displayName?: string) =>
    request<{ user: User }>('POST', '/api/auth/register', { username, password, displayName, inviteToken }),
  reset: (token: string, newPassword: string) => request<{ user: User }>('POST', '/api/auth/reset', { token, newPassword }),

  people: (afterId = 0) =>
    request<Person[]>('GET', `/api/admin/users?${new URLSearchParams({ limit: String(ADMIN_PAGE), afterId: String(afterId) })}`),
  updatePerson: (userId: number, change: { role?: 'admin' | 'member'; deactivated?: boolean }) =>
    request<Person>('PATCH', `/api/admin/users/${userId}`, change),
  passwordReset: (userId: number) => request<PasswordReset>('POST', `/api/admin/users/${userId}/password-reset`),
  invites: () => request<Invite[]>('GET', '/api/admin/invites'),
  createInvite: (expiresInHours: number, maxUses?: number) =>
    request<Invite>('POST', '/api/admin/invites', { expiresInHours, maxUses }),
  revokeInvite: (token: string) => request<void>('DELETE', `/api/admin/invites/${encodeURIComponent(token)}`),
  createBot: (username: string, displayName?: string, webhookUrl?: string) =>
    request<{ user: Person; token: string; webhookSecret?: string | null }>('POST', '/api/admin/bots', { username, displayName, webhookUrl }),
  bots: () => request<Bot[]>('GET', '/api/admin/bots'),
  removeBot: (userId: number) => request<void>('DELETE', `/api/admin/bots/${userId}`),

  pushKey: () => request<{ publicKey: string }>('GET', '/api/push/key'),
  subscribe: (subscription: PushSubscriptionBody) => request<void>('POST', '/api/push/subscriptions', subscription),
  unsubscribe: (endpoint: string) => request<void>('DELETE', '/api/push/subscriptions', { endpoint }),
}
