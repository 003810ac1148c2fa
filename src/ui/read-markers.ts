import { api } from './api.ts'

export interface ReadMarkerOptions {
  /** The newest message id known in a room. */
  newestId(roomId: number): number | undefined
  /** The room has nothing unread any more (here, or said by another tab). */
  cleared(roomId: number): void
}

// Messages arriving in a burst while the room is open move the marker once.
const MARK_DELAY_MS = 300

/** Moves the read marker of rooms being looked at; the server tells the other tabs. */
export function createReadMarkers(options: ReadMarkerOptions) {
  const timers = new Map<number, ReturnType<typeof setTimeout>>()
  const marked = new Map<number, number>()

  function mark(roomId: number): void {
    timers.delete(roomId)
    const newest = options.newestId(roomId)
    if (newest === undefined || newest <= (marked.get(roomId) ?? 0)) return
    marked.set(roomId, newest)
    options.cleared(roomId)
    void api.markRead(roomId, newest).catch(() => marked.delete(roomId))
  }

  return {
    markSoon(roomId: number): void {
      options.cleared(roomId)
      if (!timers.has(roomId)) timers.set(roomId, setTimeout(() => mark(roomId), MARK_DELAY_MS))
    },
    cleared: options.cleared,
    cancel(): void {
      for (const timer of timers.values()) clearTimeout(timer)
      timers.clear()
    },
  }
}
