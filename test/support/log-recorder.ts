import type { Log } from '../../src/bus/redis-client'

export interface LogEntry {
  level: string
  msg: string
  fields?: Record<string, unknown>
}

/** A Log that keeps its lines and lets a test await the first line with a given message. */
export function logRecorder() {
  const entries: LogEntry[] = []
  const waiters: { msg: string; resolve(): void }[] = []
  const log: Log = (level, msg, fields) => {
    entries.push({ level, msg, fields })
    for (const waiter of waiters.filter((w) => w.msg === msg)) {
      waiters.splice(waiters.indexOf(waiter), 1)
      waiter.resolve()
    }
  }
  return {
    log,
    entries,
    count: (msg: string) => entries.filter((entry) => entry.msg === msg).length,
    async logged(msg: string, timeoutMs = 3_000) {
      if (entries.some((entry) => entry.msg === msg)) return
      const { promise, resolve, reject } = Promise.withResolvers<void>()
      waiters.push({ msg, resolve })
      const timer = setTimeout(() => reject(new Error(`"${msg}" was not logged within ${timeoutMs} ms`)), timeoutMs)
      await promise.finally(() => clearTimeout(timer))
    },
  }
}
