import { badRequest, notFound } from '../../errors'
import type { Store, TokenRecord } from '../../store/store'
import { checkText } from '../common/text'
import { hashToken, newToken } from './rules'
import type { AuthService, Session } from './service'

const DAY_MS = 86_400_000
export const TOKEN_NAME_MAX = 64
/** A user's live tokens listed at most (the list has no paging: a person has a few). */
const TOKENS_LISTED = 200

/** Access tokens: long-lived bearer tokens for scripts, stored as sessions of kind 'token'. */
export function createTokenService({ store, auth, now = Date.now }: { store: Store; auth: AuthService; now?: () => number }) {
  return {
    async create(session: Session, input: { name: string; expiresInDays?: number }): Promise<TokenRecord & { token: string }> {
      const problem = checkText('name', input.name, TOKEN_NAME_MAX)
      if (problem) throw badRequest(problem)
      const name = input.name.trim()
      const token = newToken()
      const at = now()
      const expiresAt = input.expiresInDays === undefined ? null : at + input.expiresInDays * DAY_MS
      const id = await store.createSession({ userId: session.user.id, tokenHash: hashToken(token), now: at, expiresAt, kind: 'token', name })
      return { id, name, token, createdAt: at, expiresAt, lastUsedAt: null }
    },
    list: (session: Session) => store.listTokens(session.user.id, now(), TOKENS_LISTED),
    /** Ends the token and the streams opened with it; another user's token is unknown (404). */
    async revoke(session: Session, tokenId: number) {
      if (!(await store.deleteToken(session.user.id, tokenId, now()))) throw notFound('token')
      auth.sessionsEnded(session.user.id, [tokenId])
    },
  }
}

export type TokenService = ReturnType<typeof createTokenService>
