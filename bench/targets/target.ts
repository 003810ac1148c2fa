import type { Scenario } from '../plan'

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
  close(): void
}

export interface Target {
  name: TargetName
  /** Whether this server can run the scenario (the floor only posts: no edits, reactions or files). */
  runs(scenario: Scenario): boolean
  /** Builds the server if needed; the executable to start. */
  executable(): Promise<string>
  /** Environment beyond PORT, HOST and DATABASE_PATH. */
  env: Record<string, string>
  /** Writes a fresh database of `shape` at `path`, before the server starts. */
  seedHistory(path: string, shape: HistoryShape): void
  /** `count` distinct users (cheap to repeat: streams and posts may share them). */
  users(base: string, count: number): Promise<Identity[]>
  /** A public room with every member in it, none of them subscribed yet. */
  createRoom(base: string, owner: Identity, members: Identity[]): Promise<number>
  /** The user who reads the room list of a seeded database (in rooms 1..readerRooms). */
  historyReader(base: string, shape: HistoryShape): Promise<Identity & { roomsPath: string }>
  /** Direct access to a seeded database, for the in-process timings. */
  openHistory(path: string): HistoryQueries
}

export type TargetName = 'ours' | 'floor'

/** SQLite page cache while seeding (negative: KiB), big enough for the whole index. */
export const SEED_CACHE_KIB = -512 * 1024

/** Where seeded message k (from 1) lives, and what it says: the same for every target. */
export const seededRoom = (k: number, shape: HistoryShape) => ((k - 1) % shape.rooms) + 1
export const seededContent = (k: number) => `seeded message ${k}: the quick brown fox jumps over the lazy dog`
/** Seeded messages are one second apart, ending now. */
export const seededTime = (k: number, shape: HistoryShape, now: number) => now - (shape.messages - k) * 1000
