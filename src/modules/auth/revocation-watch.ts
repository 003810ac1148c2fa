import type { Logger } from '../../log'
import type { Revocation, Store } from '../../store/store'

/**
 * How often the log is read: about the bound on how late another process's revocation takes
 * effect. Half the second promised, so a slow read or a busy event loop still keeps it; the
 * read is one indexed query that finds nothing almost always.
 */
export const REVOCATION_POLL_MS = 500
const PAGE = 500

/**
 * Follows the store's revocation log, so that a session ended or an account changed by another
 * process (the command line, another instance whose bus message was lost) takes effect here
 * within a second: `apply` forgets cached sessions and ends the streams opened with them. The
 * store is the truth; this process's own changes act at once and come back here harmlessly.
 */
export async function createRevocationWatch({ store, log, apply, intervalMs = REVOCATION_POLL_MS }: { store: Store; log: Logger; apply: (revocation: Revocation) => void; intervalMs?: number }) {
  let cursor = await store.lastRevocationId()
  let reading = false
  const timer = setInterval(async () => {
    if (reading) return
    reading = true
    try {
      for (;;) {
        const page = await store.revocationsAfter(cursor, PAGE)
        for (const revocation of page) {
          cursor = revocation.id
          apply(revocation)
        }
        if (page.length < PAGE) break
      }
    } catch (error) {
      log.error('reading the revocation log failed; retrying', { error: String(error) })
    } finally {
      reading = false
    }
  }, intervalMs)
  timer.unref?.()
  return { stop: () => clearInterval(timer) }
}
