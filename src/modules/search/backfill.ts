import type { Logger } from '../../log'
import type { Store } from '../../store/store'

/** Messages per write: ~10 ms of indexing, so requests wait at most that long behind one. */
export const BACKFILL_BATCH = 2000
const RETRY_MS = 1000

/**
 * Indexes the messages an upgrade left unindexed (migration 5), in the background, one short
 * write at a time, newest first, so recent messages are searchable first and start-up is not
 * held. Stops by itself when none are left; several instances on one file share the work.
 */
export function startSearchBackfill({ store, log, batch = BACKFILL_BATCH }: { store: Store; log: Logger; batch?: number }): { stop(): void } {
  let stopped = false
  let timer: Timer | undefined
  let total = 0
  const started = performance.now()
  const step = async (): Promise<void> => {
    if (stopped) return
    try {
      const { indexed, done } = await store.indexSearchBacklog(batch)
      total += indexed
      if (done) {
        if (total > 0) log.info('search index backfilled', { messages: total, seconds: Math.round((performance.now() - started) / 100) / 10 })
        return
      }
    } catch (error) {
      // Busy past every retry (another instance's long write): try again in a while.
      if (stopped) return
      log.warn('search backfill failed; retrying', { error: String(error) })
      timer = setTimeout(step, RETRY_MS)
      return
    }
    // A macrotask between batches: requests queued meanwhile run before the next write.
    timer = setTimeout(step, 0)
  }
  void step()
  return {
    stop() {
      stopped = true
      clearTimeout(timer)
    },
  }
}
