import type { Scenario } from '../plan'
import type { Store } from '../../src/store/store'

/**
 * A server the bench measures. The load generator speaks one dialect to every target (the
 * paths and event format of API.md); an adapter only says how to build and start its server,
 * how to fill a database before start-up, and how to get users into a room.
 */

/** Who a request is from: the headers to send, and the user id the server knows them by. */
export interface Identity {
  userId: number
  headers: Record<string, string>
}

/** The history database's shape: message k (from 1) has id k and sits in room ((k-1) % rooms) + 1. */
export interface HistoryShape {
  messages: number
  rooms: number
  /** The room-list reader is in rooms 1..readerRooms. */
  readerRooms: number
}

/** The same questions the history scenario asks over HTTP, asked of the database in-process. */
export interface HistoryQueries {
  newest(roomId: number, limit: number): Promise<unknown>
  before(roomId: number, id: number, limit: number): Promise<unknown>
  after(roomId: number, id: number, limit: number): Promise<unknown>
  rooms(userId: number): Promise<unknown>
  close(): void | Promise<void>
}

/** The in-process history queries, read from a store of either kind. */
export const storeHistory = (store: Store): HistoryQueries => ({
  newest: (roomId, limit) => store.history({ roomId, limit }),
  before: (roomId, id, limit) => store.history({ roomId, beforeId: id, limit }),
  after: (roomId, id, limit) => store.history({ roomId, afterId: id, limit }),
  rooms: (userId) => store.roomSummaries(userId),
  close: () => store.close(),
})

/** Where a target's server keeps its data: a SQLite file, or a PostgreSQL database of its own. */
export type StoreName = 'sqlite' | 'postgres'

export interface Target {
  name: TargetName
  /** The kind of database each of its scenarios gets (bench/databases.ts). */
  store: StoreName
  /** Whether this server can run the scenario (the floor only posts: no edits, reactions or files). */
  runs(scenario: Scenario): boolean
  /** Builds the server if needed; the executable to start. */
  executable(): Promise<string>
  /** Environment beyond PORT, HOST and the database's own (DATABASE_PATH or DATABASE_URL). */
  env: Record<string, string>
  /** Fills the fresh database at `location` (a file path or a postgres:// URL) with `shape`, before the server starts. */
  seedHistory(location: string, shape: HistoryShape): Promise<void>
  /** `count` distinct users (cheap to repeat: streams and posts may share them). */
  users(base: string, count: number): Promise<Identity[]>
  /** A public room with every member in it, none of them subscribed yet. */
  createRoom(base: string, owner: Identity, members: Identity[]): Promise<number>
  /** The user who reads the room list of a seeded database (in rooms 1..readerRooms). */
  historyReader(base: string, shape: HistoryShape): Promise<Identity & { roomsPath: string }>
  /** Direct access to a seeded database, for the in-process timings. */
  openHistory(location: string): Promise<HistoryQueries>
}

/** `postgres` is ours on the PostgreSQL store, run beside `ours` (on SQLite) by `--store postgres`. */
export type TargetName = 'ours' | 'floor' | 'postgres'

/** SQLite page cache while seeding (negative: KiB), big enough for the whole index. */
export const SEED_CACHE_KIB = -512 * 1024

/** Where seeded message k (from 1) lives, and what it says: the same for every target. */
export const seededRoom = (k: number, shape: HistoryShape) => ((k - 1) % shape.rooms) + 1
/** What seeded message k says, as the text before and after its number (a SQL seed builds it too). */
export const SEEDED_CONTENT = { before: 'seeded message ', after: ': the quick brown fox jumps over the lazy dog' } as const
export const seededContent = (k: number) => `${SEEDED_CONTENT.before}${k}${SEEDED_CONTENT.after}`
/** Seeded messages are one second apart, ending now. */
export const seededTime = (k: number, shape: HistoryShape, now: number) => now - (shape.messages - k) * 1000
