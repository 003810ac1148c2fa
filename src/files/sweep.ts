import type { Logger } from '../log'
import type { Store } from '../store/store'
import type { FileStorage } from './storage'

/** An upload no message took within this long is deleted (API.md: 24 hours). */
export const UNATTACHED_TTL_MS = 24 * 60 * 60 * 1000
const REMOVALS_PER_ROUND = 500

export interface FileReaper {
  /** Removes from disk every file the database deleted (with its message or room, or swept). */
  purge(): Promise<void>
  /** One sweep: unattached uploads past the TTL, then purge, then leftovers of crashes. */
  sweep(): Promise<void>
  /** Sweeps now and every intervalMs until stopped. */
  start(intervalMs: number): void
  /** Stops the timer and waits for a purge or sweep under way (before the store closes). */
  stop(): Promise<void>
}

/**
 * Keeps the disk in step with the database. Rows are the truth: a deleted file row leaves its
 * storage key in the store's removal queue (a trigger, in the same transaction), and purging
 * drains that queue, so a crash between the commit and the unlink only delays the unlink to the
 * next purge, on this instance or another. Purges never overlap in this process.
 */
export function createFileReaper({ store, storage, log, now = Date.now }: { store: Store; storage: FileStorage; log: Logger; now?: () => number }): FileReaper {
  let running: Promise<void> | null = null
  let again = false
  let sweeping: Promise<void> | null = null
  let timer: ReturnType<typeof setInterval> | undefined

  async function drain() {
    for (;;) {
      const keys = await store.pendingFileRemovals(REMOVALS_PER_ROUND)
      if (keys.length === 0) return
      await Promise.all(keys.map((key) => storage.remove(key)))
      await store.fileRemoved(keys)
      if (keys.length < REMOVALS_PER_ROUND) return
    }
  }

  /** One purge at a time; a purge asked for while one runs runs once more after it. */
  function purge(): Promise<void> {
    if (running) {
      again = true
      return running
    }
    running = (async () => {
      try {
        do {
          again = false
          await drain()
        } while (again)
      } catch (error) {
        log.error('removing deleted files failed', { error: String(error) })
      } finally {
        running = null
      }
    })()
    return running
  }

  function sweep(): Promise<void> {
    sweeping ??= sweepOnce().finally(() => (sweeping = null))
    return sweeping
  }

  async function sweepOnce() {
    try {
      const cutoff = now() - UNATTACHED_TTL_MS
      const deleted = await store.deleteUnattachedFiles(cutoff)
      if (deleted > 0) log.info('deleted unattached uploads', { count: deleted })
      await purge()
      // A crash can leave a half-received upload, or a placed file whose row was never written.
      const { stored, incoming } = await storage.leftovers(cutoff)
      await Promise.all(incoming.map((path) => storage.discard(path)))
      if (stored.length > 0) {
        const known = await store.knownStorageKeys(stored)
        await Promise.all(stored.filter((key) => !known.has(key)).map((key) => storage.remove(key)))
      }
    } catch (error) {
      log.error('upload sweep failed', { error: String(error) })
    }
  }

  return {
    purge,
    sweep,
    start(intervalMs) {
      // At once too: what a crash left is cleared at start-up, not an interval later.
      void sweep()
      timer = setInterval(() => void sweep(), intervalMs)
      timer.unref?.()
    },
    async stop() {
      clearInterval(timer)
      await Promise.all([running, sweeping])
    },
  }
}
