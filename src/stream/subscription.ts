import type { Session } from '../modules/auth/service'

export type EndReason = 'client-gone' | 'too-slow' | 'room-deleted' | 'left' | 'logout' | 'shutdown'

/**
 * One open stream: the frames waiting for the client, and what it has already been sent.
 *
 * Frames are queued here and handed to the HTTP response only as fast as the client reads
 * (the SSE generator pulls), so `queuedBytes` is exactly what waits unsent for this client.
 * Past `maxQueuedBytes` the stream is cut: the server's memory does not grow with a stalled
 * reader, and the client can reconnect and resume from its Last-Event-ID.
 */
export class Subscription {
  /** Highest event id handed to this stream; live delivery sends only newer ones. */
  sentId: number
  /** While true, the stream replays from the store and the live pump skips it. */
  catchingUp: boolean
  /** Rooms whose events this stream receives (one for a room stream). */
  readonly rooms = new Set<number>()
  /** Rooms gained while connected, with the last id that predates the user in them. */
  joinedAfter: Map<number, number> | null = null
  ended: EndReason | null = null
  /** Called once when the stream is cut for being too slow (the transport drops the connection). */
  onCut: (() => void) | null = null

  private readonly queue: Uint8Array[] = []
  private queuedBytes = 0
  private wake: (() => void) | null = null

  constructor(
    readonly kind: 'room' | 'user',
    readonly session: Session,
    readonly maxQueuedBytes: number,
    start: { sentId: number; catchingUp: boolean },
  ) {
    this.sentId = start.sentId
    this.catchingUp = start.catchingUp
  }

  get userId() {
    return this.session.user.id
  }

  /** Queues a frame; returns false (and ends the stream) when the client is too far behind. */
  push(frame: Uint8Array): boolean {
    if (this.ended) return false
    this.queuedBytes += frame.byteLength
    if (this.queuedBytes > this.maxQueuedBytes) {
      this.end('too-slow')
      return false
    }
    this.queue.push(frame)
    this.notify()
    return true
  }

  /** Ends the stream after what is queued (a final frame may be added first). */
  end(reason: EndReason, finalFrame?: Uint8Array) {
    if (this.ended) return
    if (reason === 'too-slow' || reason === 'client-gone') this.drop()
    else if (finalFrame) this.queue.push(finalFrame)
    this.ended = reason
    if (reason === 'too-slow') this.onCut?.()
    this.notify()
  }

  /** Everything queued, as one chunk (null when nothing is). */
  take(): Uint8Array | null {
    if (this.queue.length === 0) return null
    const chunk = this.queue.length === 1 ? this.queue[0]! : Buffer.concat(this.queue)
    this.drop()
    return chunk
  }

  /** Resolves when there is something to take or the stream ended. */
  waitForWork(): Promise<void> {
    if (this.queue.length > 0 || this.ended) return Promise.resolve()
    return new Promise((resolve) => (this.wake = resolve))
  }

  /** Empties the queue in place: the fan-out path allocates nothing per delivery here. */
  private drop() {
    this.queue.length = 0
    this.queuedBytes = 0
  }

  private notify() {
    const wake = this.wake
    this.wake = null
    wake?.()
  }
}
