import type { Session } from './service'

/** How long a cached session is trusted before the store is asked again. */
const SESSION_CACHE_MS = 60_000
const SESSION_CACHE_MAX = 10_000

/**
 * Recently used sessions, by token hash. An entry is dropped the moment this process ends the
 * session or changes its account, and within a second when another process does (the
 * revocation log, auth/revocation-watch.ts), so it never outlives a logout, a deactivation or a
 * role change by more than that.
 */
export function createSessionCache() {
  const entries = new Map<string, { session: Session; until: number }>()
  const drop = (match: (session: Session) => boolean) => {
    for (const [key, entry] of entries) if (match(entry.session)) entries.delete(key)
  }
  return {
    get(key: string, at: number): Session | null {
      const entry = entries.get(key)
      return entry && entry.until > at ? entry.session : null
    },
    set(key: string, session: Session, until: number) {
      if (entries.size >= SESSION_CACHE_MAX) entries.clear()
      entries.set(key, { session, until })
    },
    ttlMs: SESSION_CACHE_MS,
    forgetSession: (sessionId: number) => drop((s) => s.id === sessionId),
    forgetUser: (userId: number) => drop((s) => s.user.id === userId),
  }
}
