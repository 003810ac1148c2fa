/**
 * A real HTTP endpoint started by a test: a bot's webhook receiver or a push service. It keeps
 * every request it got (headers and raw body) and answers with what the test's handler says;
 * `next` awaits a request matching a predicate, with a deadline (never a sleep).
 */
import { within } from '../helpers'

export interface Received {
  path: string
  headers: Headers
  body: Uint8Array
  text: string
  /** The body parsed as JSON, when it is. */
  json: any
}

export type Answer = (request: Received, index: number) => Response | Promise<Response>

export interface Receiver {
  url: string
  received: Received[]
  /** Replaces how later requests are answered. */
  answer(handler: Answer): void
  next(match?: (r: Received) => boolean, timeoutMs?: number): Promise<Received>
  /** Waits until `count` requests matched. */
  until(match: (r: Received) => boolean, count: number, timeoutMs?: number): Promise<Received[]>
  close(): void
}

export function startReceiver(handler: Answer = () => new Response(null, { status: 204 })): Receiver {
  const received: Received[] = []
  const waiters: (() => void)[] = []
  let cursor = 0
  let answer = handler
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    idleTimeout: 0,
    async fetch(request) {
      const body = new Uint8Array(await request.arrayBuffer())
      const text = new TextDecoder().decode(body)
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch {
        json = undefined
      }
      const entry = { path: new URL(request.url).pathname, headers: request.headers, body, text, json }
      received.push(entry)
      for (const wake of waiters.splice(0)) wake()
      return answer(entry, received.length - 1)
    },
  })
  const changed = () => new Promise<void>((resolve) => waiters.push(resolve))
  return {
    url: `http://127.0.0.1:${server.port}`,
    received,
    answer(next) {
      answer = next
    },
    async next(match = () => true, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        while (cursor < received.length) {
          const r = received[cursor++]!
          if (match(r)) return r
        }
        await within(changed(), deadline - Date.now(), `no matching request within ${timeoutMs} ms; got ${received.length}`)
      }
    },
    async until(match, count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs
      while (received.filter(match).length < count) {
        await within(changed(), deadline - Date.now(), `${count} matching requests not received within ${timeoutMs} ms; got ${received.filter(match).length}`)
      }
      return received.filter(match)
    },
    close() {
      server.stop(true)
    },
  }
}

/** An answer that never comes (the receiver's close cuts the connection): a call that times out. */
export const never = (): Promise<Response> => new Promise(() => {})
