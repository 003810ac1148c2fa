import { Database, type SQLQueryBindings, type Statement } from 'bun:sqlite'
import { migrate } from '../migrations'

import { MAX_LIMIT } from '../store'

/** The column lists the parts read their records with (aliases u, r); messages: message-rows.ts. */
export const USER = `u.id, u.username, u.display_name AS displayName, u.created_at AS createdAt, u.role, u.deactivated_at AS deactivatedAt`
export const ROOM = `r.id, r.name, r.type, r.visibility, r.owner_id AS ownerId, r.created_at AS createdAt`

/** A caller's limit as the store runs it: an integer in 0..MAX_LIMIT (SQLite reads LIMIT -1 as none). */
export const bounded = (limit: number): number => Math.min(Math.max(Math.trunc(limit) || 0, 0), MAX_LIMIT)

/** Opens (creating if needed) the database, applies pending migrations and tunes it. */
export function openDatabase(path: string): Database {
  const db = new Database(path, { create: true, strict: true })
  // First, so that every statement after it, the switch to WAL included, waits while another
  // instance holds a lock (instances starting together on one file) instead of failing at once.
  db.run('PRAGMA busy_timeout = 5000')
  // WAL + NORMAL: ~20x the commit rate of FULL; a process crash loses nothing, only an OS
  // crash or power loss can drop the last commits (STACK-NOTES).
  switchToWal(db)
  db.run('PRAGMA synchronous = NORMAL')
  db.run('PRAGMA foreign_keys = ON')
  // 32 MiB of page cache (the default is 2 MiB), filled only as pages are read: a search seeks
  // past a common word's doclist (~2 MB per 1,000,000 messages), ~4x slower when it is re-read
  // from the OS on every query.
  db.run('PRAGMA cache_size = -32768')
  // The schema version is read and brought up to date under one write lock: instances starting
  // together take turns, and each sees what the one before it applied (its steps become
  // savepoints inside this transaction).
  db.transaction(() => migrate(db)).immediate()
  return db
}

/**
 * The switch to WAL answers SQLITE_BUSY at once, not after busy_timeout, while another process
 * opening the same new file holds its lock (3 of 80 binaries started in pairs failed to start):
 * it is retried for up to a second, as nothing else can be done before it.
 */
function switchToWal(db: Database): void {
  for (let attempt = 1; ; attempt++) {
    try {
      db.run('PRAGMA journal_mode = WAL')
      return
    } catch (error) {
      if (!isBusy(error) || attempt >= 100) throw error
      Bun.sleepSync(10)
    }
  }
}

/** Prepares (and caches) a statement typed by the row it returns. */
export const statement = <T = unknown>(db: Database, sql: string): Statement<T> => db.query(sql) as Statement<T>

const isBusy = (error: unknown) => (error as { code?: string })?.code?.startsWith('SQLITE_BUSY') ?? false

/**
 * Runs a write, retrying while another process holds the lock past busy_timeout. Sync
 * underneath: bun:sqlite blocks, which keeps each write short and ordered in this process.
 */
export async function retryBusy<T>(write: () => T): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return write()
    } catch (error) {
      if (!isBusy(error) || attempt >= 5) throw error
      await Bun.sleep(10 * attempt)
    }
  }
}

/**
 * The row of an INSERT ... RETURNING. Never `.get()` such a statement: it steps once and
 * leaves the statement open, so its autocommit transaction is not committed until the next
 * run (a crash loses the write, other processes do not see it, the WAL cannot checkpoint).
 * `.all()` steps it to the end.
 */
export function returning<T>(statement: Statement<T>, ...params: SQLQueryBindings[]): T | null {
  return statement.all(...params)[0] ?? null
}
