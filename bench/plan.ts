/** How big each scenario is, in the full run and in the quick (CI smoke) run. */
import type { HistoryShape } from './targets/target'

export interface FanoutPlan {
  subscribers: number
  /** Streams share users: registration is slow on purpose (argon2id). */
  streamsPerUser: number
  messages: number
  /** Messages posted per second, on a fixed schedule. */
  rate: number
  /** How long to wait after the last post for deliveries still on their way. */
  drainMs: number
}

export interface IngestPlan {
  /** Concurrent posting loops, each awaiting its answer before the next post. */
  posters: number
  posterUsers: number
  listeners: number
  durationMs: number
  drainMs: number
}

export interface IdlePlan {
  streams: number
  streamsPerUser: number
  /** Pause after opening, before reading memory, so the server settles. */
  settleMs: number
}

export interface HistoryPlan extends HistoryShape {
  /** Requests timed per kind of page. */
  samples: number
  limit: number
}

export interface UploadPlan {
  /** Uploads sent at once. */
  uploads: number
  /** Bytes of each. */
  bytes: number
}

/** Search runs on the history database: its shape comes from the history plan. */
export interface SearchPlan extends HistoryShape {
  /** Requests timed per kind of query. */
  samples: number
  limit: number
}

export interface StartupPlan {
  /** Starts per database; the best is reported. */
  runs: number
}

export const SCENARIOS = ['fanout', 'changes', 'ingest', 'idle', 'upload', 'history', 'search', 'startup'] as const
export type Scenario = (typeof SCENARIOS)[number]

export interface Plan {
  /** Interleaved rounds of fanout, ingest and idle per target; see rounds.ts. */
  rounds: number
  fanout: FanoutPlan
  /** Fan-out of edits and reactions: `messages` is the number of changes. */
  changes: FanoutPlan
  ingest: IngestPlan
  idle: IdlePlan
  /** Concurrent large uploads: throughput and the server's memory while they stream to disk. */
  upload: UploadPlan
  history: HistoryPlan
  search: SearchPlan
  startup: StartupPlan
}

export const FULL: Plan = {
  rounds: 3,
  fanout: { subscribers: 1000, streamsPerUser: 100, messages: 500, rate: 200, drainMs: 15_000 },
  changes: { subscribers: 1000, streamsPerUser: 100, messages: 500, rate: 200, drainMs: 15_000 },
  ingest: { posters: 50, posterUsers: 5, listeners: 10, durationMs: 10_000, drainMs: 15_000 },
  idle: { streams: 5000, streamsPerUser: 500, settleMs: 2000 },
  upload: { uploads: 10, bytes: 25 * 1024 * 1024 },
  history: { messages: 1_000_000, rooms: 1000, readerRooms: 50, samples: 2000, limit: 50 },
  search: { messages: 1_000_000, rooms: 1000, readerRooms: 50, samples: 1000, limit: 20 },
  startup: { runs: 5 },
}

export const QUICK: Plan = {
  rounds: 1,
  fanout: { subscribers: 200, streamsPerUser: 100, messages: 100, rate: 200, drainMs: 5000 },
  changes: { subscribers: 200, streamsPerUser: 100, messages: 100, rate: 200, drainMs: 5000 },
  ingest: { posters: 50, posterUsers: 5, listeners: 10, durationMs: 3000, drainMs: 5000 },
  idle: { streams: 500, streamsPerUser: 250, settleMs: 500 },
  // The full size: it takes seconds, and the memory figure only means something at that size.
  upload: { uploads: 10, bytes: 25 * 1024 * 1024 },
  history: { messages: 100_000, rooms: 100, readerRooms: 50, samples: 300, limit: 50 },
  search: { messages: 100_000, rooms: 100, readerRooms: 50, samples: 200, limit: 20 },
  startup: { runs: 3 },
}
