import type { Logger } from '../log'
import type { Metrics } from '../metrics'
import type { OutgoingCall, Store } from '../store/store'

/**
 * The delivery queue's worker, one per instance. Calls (webhook calls, pushes) are rows the
 * store writes in the transaction of their message (migration 7), so a message stored is a
 * call owed, across any crash. Each instance polls for due rows and claims them with a lease:
 *
 * - A claim makes a row nobody else's until its lease runs out (store.claimOutgoing), so two
 *   instances never send the same call at the same time. A worker that dies mid-call (SIGKILL)
 *   leaves its rows to be claimed again when their lease ends: delivery is at-least-once. It
 *   cannot be exactly-once: the endpoint may have acted on a call whose answer never reached
 *   us, and nothing can tell "it was received" from "it was not" (see README).
 * - A failed try (no answer in time, 5xx, 408, 429) is put back with exponential backoff; any
 *   other 4xx is final. A call still failing DELIVERY_GIVE_UP_MS after its message was
 *   stored (and after at least MIN_TRIES tries) is dropped and counted.
 * - At most `concurrency` calls run at once, and at most PER_TARGET_IN_FLIGHT per target (one
 *   bot, one push subscription): a slow endpoint holds a few slots, never the queue.
 */

/** What a sender says about one try. */
export type Outcome =
  | { result: 'sent' }
  /** Worth another try later: no answer, a timeout, 5xx, 408, 429. */
  | { result: 'retry'; reason: string }
  /** Final: the endpoint refused it (another 4xx), or is gone (404/410 for a push). */
  | { result: 'rejected'; reason: string }
  /** Not made: the user was not away, or its bot, subscription or message is gone. */
  | { result: 'skipped'; reason: 'present' | 'gone' }

export type Sender = (call: OutgoingCall, signal: AbortSignal) => Promise<Outcome>

const MIN_TRIES = 3
const PER_TARGET_IN_FLIGHT = 4
/** How often an idle worker looks for due calls (an index read; a claim only when one is due). */
const POLL_MS = 100
const BACKLOG_EVERY_MS = 1000
const MAX_RETRY_DELAY_MS = 300_000

export interface DeliveryWorkerOptions {
  store: Store
  senders: Record<OutgoingCall['kind'], Sender>
  metrics: Metrics
  log: Logger
  concurrency: number
  /** One try's limit; the lease is longer, so a live worker's claim never runs out mid-call. */
  timeoutMs: number
  retryBaseMs: number
  giveUpMs: number
  now?: () => number
}

/** The wait before try number `attempts + 1`: base * 2^(attempts - 1), +-20%, capped. */
function retryDelay(attempts: number, baseMs: number): number {
  const exact = Math.min(baseMs * 2 ** Math.min(attempts - 1, 30), MAX_RETRY_DELAY_MS)
  return Math.round(exact * (0.8 + Math.random() * 0.4))
}

export function createDeliveryWorker(options: DeliveryWorkerOptions) {
  const { store, senders, metrics, log, concurrency, timeoutMs, retryBaseMs, giveUpMs, now = Date.now } = options
  const leaseMs = 2 * timeoutMs + 1000
  const inFlight = new Map<number, AbortController>()
  const perTarget = new Map<string, number>()
  let stopped = false
  let claiming = false
  let again = false
  let lastBacklog = 0
  const idle = new Set<() => void>()

  const targetOf = (call: OutgoingCall) => `${call.kind}:${call.targetId}`

  async function fill() {
    if (stopped) return
    if (claiming) return void (again = true)
    claiming = true
    try {
      do {
        again = false
        const free = concurrency - inFlight.size
        if (stopped || free <= 0) break
        const at = now()
        const calls = await store.claimOutgoing({ now: at, leaseUntil: at + leaseMs, limit: free, perTarget: PER_TARGET_IN_FLIGHT, inFlight: perTarget })
        for (const call of calls) start(call)
        // Slots freed or calls asked for while this claim ran: claim again.
      } while (again)
      if (!stopped && now() - lastBacklog >= BACKLOG_EVERY_MS) await readBacklog()
    } catch (error) {
      log.error('delivery queue: claim failed', { error: String(error) })
    } finally {
      claiming = false
    }
  }

  async function readBacklog() {
    lastBacklog = now()
    const { pending, oldestAt } = await store.outgoingBacklog()
    metrics.outgoingPending.set(pending)
    metrics.outgoingOldestAge.set(oldestAt === null ? 0 : Math.max(0, (lastBacklog - oldestAt) / 1000))
  }

  let refillScheduled = false
  /** Calls ending together free their slots together: one claim for all of them. */
  function refill() {
    if (refillScheduled) return
    refillScheduled = true
    setImmediate(() => {
      refillScheduled = false
      void fill()
    })
  }

  function start(call: OutgoingCall) {
    const target = targetOf(call)
    const abort = new AbortController()
    inFlight.set(call.id, abort)
    perTarget.set(target, (perTarget.get(target) ?? 0) + 1)
    void run(call, abort.signal).finally(() => {
      inFlight.delete(call.id)
      const left = (perTarget.get(target) ?? 1) - 1
      if (left > 0) perTarget.set(target, left)
      else perTarget.delete(target)
      if (inFlight.size === 0) for (const wake of [...idle]) wake()
      refill()
    })
  }

  async function run(call: OutgoingCall, signal: AbortSignal) {
    let outcome: Outcome
    try {
      outcome = await senders[call.kind](call, AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]))
    } catch (error) {
      outcome = { result: 'retry', reason: signal.aborted ? 'shutting down' : String(error) }
    }
    try {
      await settle(call, outcome, signal.aborted)
    } catch (error) {
      // The row stays claimed; its lease runs out and it is tried again.
      log.error('delivery queue: could not record an outcome', { id: call.id, error: String(error) })
    }
  }

  async function settle(call: OutgoingCall, outcome: Outcome, shuttingDown: boolean) {
    const kind = { kind: call.kind }
    switch (outcome.result) {
      case 'sent':
        metrics.outgoingSent.inc(kind)
        return store.finishOutgoing(call.id, call.attempts)
      case 'skipped':
        metrics.outgoingSkipped.inc({ ...kind, reason: outcome.reason })
        return store.finishOutgoing(call.id, call.attempts)
      case 'rejected':
        metrics.outgoingFailed.inc({ ...kind, reason: 'rejected' })
        log.warn('delivery refused', { kind: call.kind, id: call.id, reason: outcome.reason })
        return store.finishOutgoing(call.id, call.attempts)
      case 'retry': {
        const at = now()
        // Stopping: the call goes back as it was, due at once, for whoever runs next.
        if (shuttingDown) return store.retryOutgoing(call.id, call.attempts, at)
        if (call.attempts >= MIN_TRIES && at - call.createdAt >= giveUpMs) {
          metrics.outgoingFailed.inc({ ...kind, reason: 'expired' })
          log.warn('delivery given up', { kind: call.kind, id: call.id, attempts: call.attempts, reason: outcome.reason })
          return store.finishOutgoing(call.id, call.attempts)
        }
        metrics.outgoingRetried.inc(kind)
        log.info('delivery failed, will retry', { kind: call.kind, id: call.id, attempts: call.attempts, reason: outcome.reason })
        return store.retryOutgoing(call.id, call.attempts, at + retryDelay(call.attempts, retryBaseMs))
      }
    }
  }

  const timer = setInterval(() => void fill(), POLL_MS)
  void fill()

  return {
    /** Stops claiming, aborts the calls in flight (each put back, due at once) and waits for them. */
    async stop() {
      stopped = true
      clearInterval(timer)
      for (const abort of inFlight.values()) abort.abort()
      if (inFlight.size > 0) await new Promise<void>((resolve) => idle.add(resolve))
    },
  }
}

export type DeliveryWorker = ReturnType<typeof createDeliveryWorker>
