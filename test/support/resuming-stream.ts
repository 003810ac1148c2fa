/**
 * An SSE client that behaves like a browser's EventSource: when the server ends the stream, or
 * refuses to open it (a 503 while its database is cut off), it opens it again on the same
 * instance with `Last-Event-ID` set to the last id it received, until closed. Its message ids
 * are every connection's, in arrival order, so "exactly once, in order" is checked across the
 * reconnections a client would make.
 */
import { openStream, within, type SseEvent, type SseStream, type TestUser } from '../helpers'

const RETRY_MS = 250

export class ResumingStream {
  readonly events: SseEvent[] = []
  /** How many times the stream was opened again after the first connection ended. */
  reconnections = 0
  /** Why each reopening attempt failed (status or error), in order. */
  readonly refusals: string[] = []
  private lastEventId: string | undefined
  private current: SseStream | undefined
  private closed = false
  private waiters: (() => void)[] = []

  private constructor(readonly url: string, readonly path: string, private readonly user: TestUser) {}

  /** Opens the stream; resolves once the first connection is established (rejects if it is refused). */
  static async open(url: string, path: string, user: TestUser, lastEventId?: string): Promise<ResumingStream> {
    const stream = new ResumingStream(url, path, user)
    stream.lastEventId = lastEventId
    const first = await stream.connect()
    void stream.follow(first)
    return stream
  }

  messageIds(): number[] {
    return this.events.filter((e) => e.event === 'message').map((e) => Number(e.id))
  }

  /** Waits until `condition` holds over everything received so far, across reconnections. */
  async until(condition: (s: ResumingStream) => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!condition(this)) {
      const changed = new Promise<void>((resolve) => this.waiters.push(resolve))
      await within(changed, deadline - Date.now(), `${what} not met within ${timeoutMs} ms (${this.reconnections} reconnections; refusals: ${this.refusals.slice(-3).join('; ') || 'none'})`)
    }
  }

  close() {
    this.closed = true
    this.current?.close()
  }

  private connect(): Promise<SseStream> {
    return openStream(this.url, this.path, this.user.token, this.lastEventId === undefined ? {} : { 'last-event-id': this.lastEventId })
  }

  private async follow(stream: SseStream) {
    for (;;) {
      this.current = stream
      await this.read(stream)
      if (this.closed) return
      // Opened again until it is accepted, as EventSource does after its retry delay.
      for (;;) {
        await Bun.sleep(RETRY_MS)
        if (this.closed) return
        try {
          stream = await this.connect()
          this.reconnections++
          break
        } catch (error) {
          this.refusals.push((error as Error).message.slice(0, 200))
        }
      }
    }
  }

  private async read(stream: SseStream) {
    for (;;) {
      let event: SseEvent
      try {
        event = await stream.next(() => true, 3_600_000)
      } catch {
        return
      }
      this.events.push(event)
      if (event.id !== undefined) this.lastEventId = event.id
      const waiters = this.waiters
      this.waiters = []
      for (const wake of waiters) wake()
    }
  }
}
