import { AppError } from '../errors'

/**
 * Seconds a refused client is told to wait. No time frees a slot, only closing one of the
 * user's streams does: this is a pause before asking again, not a promise.
 */
const RETRY_AFTER_SECONDS = 5

/** What a slot follows: a stream is over the moment `ended` is set, however it ended. */
interface Stream {
  readonly ended: unknown
}

export interface StreamSlot {
  /** From now on the slot follows this stream and is free as soon as the stream has ended. */
  hold(stream: Stream): void
  /** Frees the slot (idempotent): the stream never started, or its response is over. */
  release(): void
}

const NO_SLOT: StreamSlot = { hold() {}, release() {} }

/**
 * At most `maxPerUser` open streams per user on this instance, room and user streams together
 * (0: no limit). A slot is taken before anything of the stream happens (before a subscribe
 * joins a public room), synchronously, so a burst of concurrent opens cannot overshoot.
 *
 * A slot counts until its stream has ended, not until its response is torn down: a stream cut
 * for a stalled reader, or ended by logout, a room deletion or shutdown, frees its slot at once,
 * even while the socket lingers. Ended streams are swept when the user asks for the next slot.
 */
export function createStreamQuota(maxPerUser: number) {
  const byUser = new Map<number, Set<{ stream: Stream | null }>>()

  return {
    /** A slot for one more stream of this user, or 429 with Retry-After. */
    take(userId: number): StreamSlot {
      if (maxPerUser <= 0) return NO_SLOT
      let slots = byUser.get(userId)
      if (!slots) byUser.set(userId, (slots = new Set()))
      for (const slot of slots) if (slot.stream?.ended) slots.delete(slot)
      if (slots.size >= maxPerUser) {
        throw new AppError('rate_limited', `too many open streams: at most ${maxPerUser} per user; close one first`, RETRY_AFTER_SECONDS)
      }
      const held = slots
      const slot: { stream: Stream | null } = { stream: null }
      held.add(slot)
      return {
        hold(stream) {
          slot.stream = stream
        },
        release() {
          held.delete(slot)
          if (held.size === 0 && byUser.get(userId) === held) byUser.delete(userId)
        },
      }
    },
  }
}
