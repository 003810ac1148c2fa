import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { type Bus, type BusEvent, roomTopic, type Topic, userTopic } from '../../src/bus/bus'

/**
 * The guarantees of `Bus` (src/bus/bus.ts), checked the same way against every implementation.
 * `a` and `b` are two instances on one network; an implementation without a network passes the
 * same bus twice and `{ crossInstance: false }`, which leaves out what needs two instances.
 */

export interface BusPair {
  a: Bus
  b: Bus
  cleanup(): Promise<void>
}

const DELIVERY_TIMEOUT_MS = 2_000

/** Probes say "this topic reaches the other instance now"; recorders leave them out. */
const PROBE_ID = Number.MAX_SAFE_INTEGER
const PROBE: BusEvent = { type: 'typing', roomId: PROBE_ID, userId: PROBE_ID }
const isProbe = (event: BusEvent) => event.type === 'typing' && event.userId === PROBE_ID

/** A handler that keeps what it receives, and lets a test await a number of events or a condition. */
export function recorder() {
  const events: BusEvent[] = []
  let waiting: { done(): boolean; resolve(): void } | null = null
  return {
    events,
    handler(event: BusEvent) {
      if (isProbe(event)) return
      events.push(event)
      if (waiting?.done()) waiting.resolve()
    },
    async until(goal: number | ((events: BusEvent[]) => boolean), timeoutMs = DELIVERY_TIMEOUT_MS) {
      const done = typeof goal === 'number' ? () => events.length >= goal : () => goal(events)
      if (done()) return
      const { promise, resolve, reject } = Promise.withResolvers<void>()
      waiting = { done, resolve }
      const timer = setTimeout(
        () => reject(new Error(`awaited events did not arrive within ${timeoutMs} ms; got ${JSON.stringify(events)}`)),
        timeoutMs,
      )
      try {
        await promise
      } finally {
        clearTimeout(timer)
        waiting = null
      }
    },
  }
}

/**
 * Resolves once events that `from` publishes on `topic` reach `to`. A subscription that goes
 * over a network takes effect some time after `subscribe` returns, and the Bus interface has no
 * event for that moment: the only evidence is a delivery, so probes are published until one
 * arrives. Call it after subscribing the handlers under test (the probe's own handler goes
 * away at the end and must not be the topic's last).
 */
export async function untilLive(from: Bus, to: Bus, topic: Topic, timeoutMs = DELIVERY_TIMEOUT_MS) {
  const { promise, resolve } = Promise.withResolvers<void>()
  const unsubscribe = to.subscribe(topic, (event) => isProbe(event) && resolve())
  const deadline = Date.now() + timeoutMs
  let arrived = false
  promise.then(() => (arrived = true))
  try {
    while (!arrived) {
      if (Date.now() > deadline) throw new Error(`${topic} did not become live within ${timeoutMs} ms`)
      from.publish(topic, PROBE)
      await Promise.race([promise, Bun.sleep(20)])
    }
  } finally {
    unsubscribe()
  }
}

/** One event of every type, each on the topic the server publishes it on. */
const EVERY_EVENT: [Topic, BusEvent][] = [
  [roomTopic(1), { type: 'message', roomId: 1, messageId: 41 }],
  [roomTopic(1), { type: 'typing', roomId: 1, userId: 7 }],
  [roomTopic(1), { type: 'room-updated', roomId: 1, userId: 7 }],
  [roomTopic(1), { type: 'room-deleted', roomId: 1 }],
  [userTopic(7), { type: 'read', roomId: 1, userId: 7, messageId: 41 }],
  [userTopic(7), { type: 'room-created', roomId: 2, userId: 7 }],
  [userTopic(7), { type: 'room-left', roomId: 2, userId: 7 }],
  [userTopic(7), { type: 'session-revoked', userId: 7, sessionId: 3 }],
]
const eventsOn = (topic: Topic) => EVERY_EVENT.filter(([t]) => t === topic).map(([, event]) => event)

const message = (roomId: number, messageId: number): BusEvent => ({ type: 'message', roomId, messageId })

export function runBusContract(
  name: string,
  makeBuses: () => Promise<BusPair>,
  { crossInstance = true }: { crossInstance?: boolean } = {},
) {
  describe(`Bus contract: ${name}`, () => {
    let a: Bus
    let b: Bus
    let cleanup: () => Promise<void>
    beforeEach(async () => {
      ;({ a, b, cleanup } = await makeBuses())
    })
    afterEach(() => cleanup())

    describe('on one instance', () => {
      it('is healthy once made', () => {
        expect(a.healthy()).toBe(true)
      })

      it('calls local handlers synchronously, in publish order, before publish returns', () => {
        const seen = recorder()
        a.subscribe(roomTopic(1), seen.handler)
        for (let id = 1; id <= 100; id++) {
          a.publish(roomTopic(1), message(1, id))
          expect(seen.events.length).toBe(id)
        }
        expect(seen.events).toEqual(Array.from({ length: 100 }, (_, i) => message(1, i + 1)))
      })

      it('delivers every event type locally, unchanged, to its topic only', () => {
        const room = recorder()
        const user = recorder()
        const otherUser = recorder()
        a.subscribe(roomTopic(1), room.handler)
        a.subscribe(userTopic(7), user.handler)
        a.subscribe(userTopic(8), otherUser.handler)
        for (const [topic, event] of EVERY_EVENT) a.publish(topic, event)
        expect(room.events).toEqual(eventsOn(roomTopic(1)))
        expect(user.events).toEqual(eventsOn(userTopic(7)))
        expect(otherUser.events).toEqual([])
      })

      it('counts handlers per topic: each unsubscribe removes only its own', () => {
        const first = recorder()
        const second = recorder()
        const offFirst = a.subscribe(roomTopic(1), first.handler)
        const offSecond = a.subscribe(roomTopic(1), second.handler)
        a.publish(roomTopic(1), message(1, 1))
        offFirst()
        offFirst()
        a.publish(roomTopic(1), message(1, 2))
        offSecond()
        a.publish(roomTopic(1), message(1, 3))
        expect(first.events).toEqual([message(1, 1)])
        expect(second.events).toEqual([message(1, 1), message(1, 2)])
      })

      it('delivers again after the last handler went and a new one came', () => {
        a.subscribe(roomTopic(1), () => {})()
        const seen = recorder()
        a.subscribe(roomTopic(1), seen.handler)
        a.publish(roomTopic(1), message(1, 1))
        expect(seen.events).toEqual([message(1, 1)])
      })

      it('publishes without throwing when nobody listens, and after close', async () => {
        expect(() => a.publish(roomTopic(99), message(99, 1))).not.toThrow()
        await a.close()
        expect(() => a.publish(roomTopic(1), message(1, 1))).not.toThrow()
      })

    })

    // The in-process bus has no second instance: those cases do not exist for it.
    if (crossInstance) describe('across instances', () => {
      it('delivers every event type to the other instance, unchanged', async () => {
        const room = recorder()
        const user = recorder()
        b.subscribe(roomTopic(1), room.handler)
        b.subscribe(userTopic(7), user.handler)
        await untilLive(a, b, roomTopic(1))
        await untilLive(a, b, userTopic(7))
        for (const [topic, event] of EVERY_EVENT) a.publish(topic, event)
        await room.until(eventsOn(roomTopic(1)).length)
        await user.until(eventsOn(userTopic(7)).length)
        expect(room.events).toEqual(eventsOn(roomTopic(1)))
        expect(user.events).toEqual(eventsOn(userTopic(7)))
      })

      it('keeps each topic in publish order from one publisher', async () => {
        const room = recorder()
        const user = recorder()
        b.subscribe(roomTopic(1), room.handler)
        b.subscribe(userTopic(7), user.handler)
        await untilLive(a, b, roomTopic(1))
        await untilLive(a, b, userTopic(7))
        const count = 1_000
        for (let id = 1; id <= count; id++) {
          a.publish(roomTopic(1), message(1, id))
          a.publish(userTopic(7), { type: 'read', roomId: 1, userId: 7, messageId: id })
        }
        await room.until(count)
        await user.until(count)
        expect(room.events.map((e) => (e.type === 'message' ? e.messageId : -1))).toEqual(
          Array.from({ length: count }, (_, i) => i + 1),
        )
        expect(user.events.map((e) => (e.type === 'read' ? e.messageId : -1))).toEqual(
          Array.from({ length: count }, (_, i) => i + 1),
        )
      })

      it('delivers each event once on each instance: the publisher ignores its own echo', async () => {
        const onA = recorder()
        const onB = recorder()
        a.subscribe(roomTopic(1), onA.handler)
        b.subscribe(roomTopic(1), onB.handler)
        await untilLive(a, b, roomTopic(1))
        await untilLive(b, a, roomTopic(1))
        a.publish(roomTopic(1), message(1, 1))
        await onB.until(1)
        // Through one broker, b's reply (sent after b saw the first) reaches a after a's own echo of
        // the first would have: had a taken its echo, it would hold the first event twice.
        b.publish(roomTopic(1), message(1, 2))
        await onA.until(2)
        await onB.until(2)
        expect(onA.events).toEqual([message(1, 1), message(1, 2)])
        expect(onB.events).toEqual([message(1, 1), message(1, 2)])
      })

      it('does not call a handler after its unsubscribe', async () => {
        const gone = recorder()
        const stays = recorder()
        const last = recorder()
        const offGone = b.subscribe(roomTopic(1), gone.handler)
        b.subscribe(roomTopic(1), stays.handler)
        const offLast = b.subscribe(roomTopic(2), last.handler)
        await untilLive(a, b, roomTopic(1))
        await untilLive(a, b, roomTopic(2))
        offGone()
        offLast()
        a.publish(roomTopic(1), message(1, 1))
        a.publish(roomTopic(2), message(2, 1))
        // A topic's events keep their order: once the later one arrived, the earlier did or never will.
        const later = recorder()
        b.subscribe(roomTopic(2), later.handler)
        await untilLive(a, b, roomTopic(2))
        a.publish(roomTopic(2), message(2, 2))
        await stays.until(1)
        await later.until((events) => events.some((e) => e.type === 'message' && e.messageId === 2))
        expect(stays.events).toEqual([message(1, 1)])
        expect(gone.events).toEqual([])
        expect(last.events).toEqual([])
      })

      it('delivers again after the last handler went and a new one came', async () => {
        const first = recorder()
        const off = b.subscribe(roomTopic(1), first.handler)
        await untilLive(a, b, roomTopic(1))
        off()
        const second = recorder()
        b.subscribe(roomTopic(1), second.handler)
        await untilLive(a, b, roomTopic(1))
        a.publish(roomTopic(1), message(1, 1))
        await second.until(1)
        expect(second.events).toEqual([message(1, 1)])
        expect(first.events).toEqual([])
      })
    })
  })
}
