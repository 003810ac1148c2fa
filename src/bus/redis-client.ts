import Redis from 'ioredis'

/** The logger the Redis bus and presence report through (the server passes its own). */
export type Log = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => void

export const noLog: Log = () => {}

/** How often each connection PINGs Redis, and how long any command may wait for an answer. */
export const DEFAULT_HEARTBEAT_MS = 3_000
const RETRY_CAP_MS = 2_000
const QUIT_TIMEOUT_MS = 500
/** A down Redis makes ioredis emit an error on every retry: log one, then at most one per window. */
export const LOG_WINDOW_MS = 10_000

/**
 * A log for lines that can come in floods (every retry, every bad payload): the first goes out,
 * then at most one per window, carrying how many were held back.
 */
export function throttledLog(log: Log, windowMs = LOG_WINDOW_MS) {
  let lastAt = -Infinity
  let suppressed = 0
  return {
    log: ((level, msg, fields) => {
      const now = Date.now()
      if (now - lastAt < windowMs) {
        suppressed++
        return
      }
      log(level, msg, { ...fields, suppressed })
      lastAt = now
      suppressed = 0
    }) satisfies Log,
    /** The next line goes out at once (a new episode deserves its own first line). */
    reset() {
      lastAt = -Infinity
      suppressed = 0
    },
  }
}

export interface RedisLinkOptions {
  url: string
  /** Which connection this is, for logs and CLIENT LIST: `publisher`, `subscriber`, `presence`. */
  name: string
  instanceId: string
  log: Log
  heartbeatMs: number
  /** The connection is ready; `first` is false when it comes back after having been lost. */
  onReady(first: boolean): void
  /** The connection was ready and is not any more. */
  onLost(): void
}

export interface RedisLink {
  readonly client: Redis
  /** Between the `ready` event and the next `close`: commands are sent now, never queued. */
  ready(): boolean
  /** QUIT politely, or drop the socket if Redis does not answer quickly. */
  close(): Promise<void>
}

/**
 * Fails at once on a URL ioredis would misread (it takes a bare word for a socket path). The
 * message never repeats the URL: it may carry a password.
 */
export function checkRedisUrl(url: string): void {
  const protocol = URL.parse(url)?.protocol
  if (protocol !== 'redis:' && protocol !== 'rediss:') {
    throw new Error('Redis URL must be a redis:// or rediss:// URL (e.g. redis://127.0.0.1:6379)')
  }
}

/**
 * One ioredis connection with the behaviour the bus needs, whatever state Redis is in:
 * - it connects in the background and retries forever (capped backoff), so start-up never
 *   waits for or fails on Redis;
 * - commands are never queued while disconnected (`enableOfflineQueue: false`) nor replayed
 *   after a reconnect (`maxRetriesPerRequest: 0` rejects the in-flight ones at the close): a
 *   stale event is worse than a lost one, because the store is the truth and resync repairs;
 * - a PING every `heartbeatMs`, with `socketTimeout`, turns a Redis that stopped answering
 *   into a reconnect. Without it ioredis waits forever: measured, a server that accepts the
 *   connection but never replies leaves the client in `connect` with no error, and a silent
 *   peer is only noticed by TCP keepalive after minutes;
 * - subscriptions are restored by the bus itself (`autoResubscribe: false`): it knows which
 *   channels it still wants and must know when they are live again.
 */
export function openRedisLink(options: RedisLinkOptions): RedisLink {
  const { name, log, heartbeatMs } = options
  const client = new Redis(options.url, {
    connectionName: `chat:${options.instanceId}:${name}`,
    retryStrategy: (attempt) => Math.min(attempt * 100, RETRY_CAP_MS),
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: false,
    connectTimeout: heartbeatMs,
    socketTimeout: heartbeatMs,
  })

  let isReady = false
  let everReady = false
  let closing = false
  let lostAt = Date.now()
  const errors = throttledLog(log)

  client.on('error', (err: Error) => {
    if (!closing) errors.log('warn', 'redis connection error', { connection: name, error: err.message })
  })
  client.on('ready', () => {
    isReady = true
    const first = !everReady
    everReady = true
    log('info', first ? 'redis connected' : 'redis reconnected', {
      connection: name,
      ...(first ? {} : { downMs: Date.now() - lostAt }),
    })
    errors.reset()
    options.onReady(first)
  })
  client.on('close', () => {
    if (!isReady) return
    isReady = false
    lostAt = Date.now()
    if (!closing) log('warn', 'redis connection lost', { connection: name })
    options.onLost()
  })

  const heartbeat = setInterval(() => {
    if (isReady) client.ping().catch(() => {})
  }, heartbeatMs)
  heartbeat.unref()

  return {
    client,
    ready: () => isReady,
    async close() {
      closing = true
      clearInterval(heartbeat)
      if (isReady) {
        let timer: Timer | undefined
        const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, QUIT_TIMEOUT_MS)))
        await Promise.race([client.quit().catch(() => {}), timeout])
        clearTimeout(timer)
      }
      client.disconnect()
    },
  }
}
