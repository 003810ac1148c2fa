import { availableParallelism } from 'node:os'
import { AppError } from '../../errors'

export interface HashGateOptions {
  /** Hashes that run at once. */
  concurrency: number
  /** Hashes that may wait for a turn; one more is refused at once. */
  maxWaiting: number
}

/**
 * Half the cores (at least one) hash; the rest stay for the event loop. A queue of 32 per
 * running hash is about a second of waiting at 20-35 ms a hash: longer, and a client would
 * rather be told to come back.
 */
export function defaultHashGateOptions(): HashGateOptions {
  const concurrency = Math.max(1, Math.floor(availableParallelism() / 2))
  return { concurrency, maxWaiting: 32 * concurrency }
}

/**
 * Bounds the password hashes (argon2id: 20-35 ms of CPU and 19 MiB each here) that run at
 * once. Bun runs each on a thread pool as wide as the machine, so without a bound a flood of
 * sign-ins takes every core, and the event loop, which delivers messages, waits behind them
 * (scripts/login-flood.ts, 200 clients on this shared 2-core box, median of 8 rounds: delivery
 * p50 2.8 ms with the gate at 1, 6.2 ms without; hashes answered 11-21 a second, not 22-44).
 * Hashes past the bound wait their turn in order; past `maxWaiting` the call fails at once
 * with 503 `unavailable` and Retry-After (the time the queue takes to drain). 503, not 429:
 * the one refused may be a user who sent a single sign-in while others flood the server, so
 * "the server is busy" is true and "you sent too many" would not be.
 */
export function createHashGate({ concurrency, maxWaiting }: HashGateOptions) {
  let running = 0
  const waiting: (() => void)[] = []
  // A running estimate of one hash's duration, for Retry-After.
  let hashMs = 50

  return {
    async run<T>(task: () => Promise<T>): Promise<T> {
      if (running < concurrency) running++
      else if (waiting.length < maxWaiting) await new Promise<void>((turn) => waiting.push(turn))
      else {
        const drainSeconds = Math.ceil((waiting.length * hashMs) / concurrency / 1000)
        throw new AppError('unavailable', 'the server is busy with other sign-ins; try again shortly', Math.max(1, drainSeconds))
      }
      const started = performance.now()
      try {
        return await task()
      } finally {
        hashMs += (performance.now() - started - hashMs) / 8
        // The turn passes straight to the next in line, so `running` stays as it is.
        const next = waiting.shift()
        if (next) next()
        else running--
      }
    },
  }
}
