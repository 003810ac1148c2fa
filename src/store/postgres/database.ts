import { SQL } from 'bun'
import { MAX_LIMIT, StoreUnavailableError } from '../store'
import { migrate } from './migrations'

/** What the parts of the PostgreSQL store query through: every call under a deadline. */
export interface Database {
  /** Runs `work` on the pool (autocommit statements) within the query deadline. */
  run<T>(work: (sql: SQL) => Promise<T>): Promise<T>
  /**
   * Runs `work` in one transaction (`sql.begin`: ROLLBACK when it throws) within the deadline.
   * A serialization failure or deadlock is retried from the start, up to 3 tries.
   */
  tx<T>(work: (tx: SQL) => Promise<T>): Promise<T>
  /** Whether the database answers a trivial query within a short deadline. */
  ping(): Promise<boolean>
  close(): Promise<void>
}

export interface DatabaseOptions {
  url: string
  /** The longest any call may take before it fails with StoreUnavailableError (503). */
  queryTimeoutMs?: number
  /** Connections in the pool. */
  max?: number
  /** Told when the pool is recycled after a streak of timeouts. */
  onRecycle?: (streak: number) => void
}

/** Consecutive timed-out calls after which the pool is replaced (its connections are presumed dead). */
const RECYCLE_AFTER = 3
const PING_TIMEOUT_MS = 2_000
/** While unreachable: how long a probe may take, and the pause between probes. */
const PROBE_TIMEOUT_MS = 1_000
const PROBE_INTERVAL_MS = 250

/** A caller's limit as the store runs it: an integer in 0..MAX_LIMIT. */
export const bounded = (limit: number): number => Math.min(Math.max(Math.trunc(limit) || 0, 0), MAX_LIMIT)

/** int8 columns arrive as strings; a nullable one as null. */
export const num = (value: unknown): number => Number(value)
export const numOrNull = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value))

/** The SQLSTATE of a server error (e.g. '23505' unique violation), else undefined. */
export const sqlState = (error: unknown): string | undefined => {
  const errno = error instanceof SQL.PostgresError ? (error as { errno?: unknown }).errno : undefined
  return errno === undefined || errno === null || errno === '' ? undefined : String(errno)
}

/**
 * Connects, applies pending migrations and returns the handle the parts share.
 *
 * Bun's SQL client has no per-query timeout: across a network partition a query waits
 * forever (STACK-NOTES). So every call races a timer; a call that loses answers
 * StoreUnavailableError (a 503 to the request), and RECYCLE_AFTER losses in a row replace the
 * pool, rejecting whatever still waits on the old one, so the next calls open fresh
 * connections instead of queueing behind dead ones. `statement_timeout` (set a little under
 * the deadline) makes the server itself give up on a slow query, so a lock wait or a runaway
 * plan does not keep working after its caller was answered.
 */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const timeoutMs = options.queryTimeoutMs ?? 5_000
  const connect = () =>
    new SQL(options.url, {
      max: options.max ?? 10,
      connectionTimeout: Math.max(1, Math.ceil(timeoutMs / 1000)),
      idleTimeout: 60,
      // jit off: every query here is a short OLTP one, and one mis-estimated plan made the
      // server JIT-compile a post batch for 3.8 s (it pays only for long analytic queries).
      connection: { statement_timeout: String(Math.max(100, timeoutMs - 250)), jit: 'off', application_name: 'chat-server' },
    })
  let pool = connect()
  let streak = 0
  let closed = false
  // After a streak of timeouts the database is presumed unreachable: calls fail at once
  // (a 503 now rather than after the whole deadline, while the load balancer moves clients
  // away) until a probe on a fresh connection gets an answer.
  let unreachable = false

  const recycle = () => {
    const old = pool
    pool = connect()
    options.onRecycle?.(streak)
    streak = 0
    void old.close({ timeout: 0 }).catch(() => {})
  }

  async function probeUntilAnswered() {
    while (unreachable && !closed) {
      const probe = new SQL(options.url, { max: 1, connectionTimeout: 1, connection: { application_name: 'chat-server probe' } })
      const answered = await Promise.race([probe`SELECT 1`.then(() => true, () => false), Bun.sleep(PROBE_TIMEOUT_MS).then(() => false)])
      void probe.close({ timeout: 0 }).catch(() => {})
      if (answered) unreachable = false
      else await Bun.sleep(PROBE_INTERVAL_MS)
    }
  }

  async function withDeadline<T>(work: (sql: SQL) => Promise<T>, ms: number): Promise<T> {
    if (closed) throw new StoreUnavailableError('the database is closed')
    if (unreachable) throw new StoreUnavailableError('the database is unreachable (timed out repeatedly; probing)')
    let timer: Timer | undefined
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DeadlineError(ms)), ms)
    })
    try {
      const result = await Promise.race([work(pool), deadline])
      streak = 0
      return result
    } catch (error) {
      if (error instanceof DeadlineError) {
        if (++streak >= RECYCLE_AFTER && !unreachable) {
          recycle()
          unreachable = true
          void probeUntilAnswered()
        }
        throw new StoreUnavailableError(`the database did not answer within ${ms} ms`)
      }
      if (isUnavailable(error)) throw new StoreUnavailableError(`the database is unavailable (${describe(error)})`)
      throw error
    } finally {
      clearTimeout(timer)
    }
  }

  const database: Database = {
    run: (work) => withDeadline(work, timeoutMs),
    async tx(work) {
      for (let attempt = 1; ; attempt++) {
        try {
          return await withDeadline((sql) => sql.begin((tx) => work(tx as unknown as SQL)) as Promise<never>, timeoutMs)
        } catch (error) {
          const state = sqlState(error)
          if ((state === '40001' || state === '40P01') && attempt < 3) continue
          throw error
        }
      }
    },
    async ping() {
      try {
        await withDeadline((sql) => sql`SELECT 1`, Math.min(PING_TIMEOUT_MS, timeoutMs))
        return true
      } catch {
        return false
      }
    },
    async close() {
      closed = true
      await pool.close({ timeout: 1 }).catch(() => {})
    },
  }
  try {
    await withDeadline((sql) => migrate(sql), Math.max(timeoutMs, 60_000))
  } catch (error) {
    await database.close()
    throw error
  }
  return database
}

class DeadlineError extends Error {
  constructor(ms: number) {
    super(`no answer within ${ms} ms`)
  }
}

/**
 * Errors that say the database cannot be reached or cannot serve now, not that the query was
 * wrong: connection failures of the client, and the server's classes 08 (connection), 53
 * (insufficient resources), 57 (operator intervention: shutdown, statement_timeout's 57014).
 */
function isUnavailable(error: unknown): boolean {
  const state = sqlState(error)
  if (state !== undefined) return /^(08|53|57)/.test(state)
  const code = String((error as { code?: unknown })?.code ?? '')
  return /^ERR_POSTGRES_(CONNECTION|QUERY_CANCELLED|IDLE_TIMEOUT|LIFETIME|TLS|CHANNEL)/.test(code) || /^(ECONN|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH)/.test(code)
}

const describe = (error: unknown) => String((error as { code?: unknown })?.code ?? (error as Error)?.message ?? error)
