import { badRequest, conflict, notFound } from '../../errors'
import type { Store, TokenRecord } from '../../store/store'
import { checkText } from '../common/text'
import { hashToken, newToken } from './rules'
import type { AuthService, Session } from './service'

const DAY_MS = 86_400_000
export const TOKEN_NAME_MAX = 64
/**
 * A user's live tokens at most. The list has no paging (a person has a few), so it shows them
 * all only when their number is bounded; the bound also keeps a script from filling the table.
 */
const TOKENS_MAX = 200

/** Access tokens: long-lived bearer tokens for scripts, stored as sessions of kind 'token'. */
export function createTokenService({ store, auth, now = Date.now }: { store: Store; auth: AuthService; now?: () => number }) {
  return {
    async create(session: Session, input: { name: string; expiresInDays?: number }): Promise<TokenRecord & { token: string }> {
      const problem = checkText('name', input.name, TOKEN_NAME_MAX)
      if (problem) throw badRequest(problem)
      const name = input.name.trim()
      const at = now()
      if ((await store.listTokens(session.user.id, at, TOKENS_MAX)).length >= TOKENS_MAX) {
        throw conflict(`at most ${TOKENS_MAX} live access tokens: revoke one first`)
      }
      const token = newToken()
      const expiresAt = input.expiresInDays === undefined ? null : at + input.expiresInDays * DAY_MS
      const id = await store.createSession({ userId: session.user.id, tokenHash: hashToken(token), now: at, expiresAt, kind: 'token', name })
      return { id, name, token, createdAt: at, expiresAt, lastUsedAt: null }
    },
    list: (session: Session) => store.listTokens(session.user.id, now(), TOKENS_MAX),
    /** Ends the token and the streams opened with it; another user's token is unknown (404). */
    async revoke(session: Session, tokenId: number) {
      if (!(await store.deleteToken(session.user.id, tokenId, now()))) throw notFound('token')
      auth.sessionsEnded(session.user.id, [tokenId])
    },
  }
}

export type TokenService = ReturnType<typeof createTokenService>
