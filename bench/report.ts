/**
 * The table: every figure as ours, floor and ours/floor, next to its target (printed, never
 * asserted), and the checks that do fail the run (lost or doubled deliveries, failed posts,
 * dropped streams, a scenario that could not run).
 */
import type { Figures } from './load/job'
import type { Plan, Scenario } from './plan'
import type { TargetName } from './targets/target'

export type Outcome = Figures | { error: string }
export type Results = Record<Scenario, Partial<Record<TargetName, Outcome>>>

interface Row {
  scenario: Scenario
  key: string
  label: string
  decimals: number
  target?: string
  met?: (ours: number, floor: number) => boolean
  /** A correctness count: any non-zero, for either target, fails the run. */
  mustBeZero?: boolean
}

const zero = (scenario: Scenario, key: string, label: string): Row =>
  ({ scenario, key, label, decimals: 0, target: '0', met: ours => ours === 0, mustBeZero: true })
const pageRows = (prefix: 'http' | 'store', where: string, limit: number): Row[] =>
  (['Newest', 'Before', 'After'] as const).flatMap((kind): Row[] => {
    const page = { Newest: 'newest page', Before: 'page before id', After: 'page after id' }[kind]
    return [
      { scenario: 'history', key: `${prefix}${kind}P50`, label: `${where} ${page} p50 (ms)`, decimals: 3 },
      {
        scenario: 'history', key: `${prefix}${kind}P99`, label: `${where} ${page} p99 (ms)`, decimals: 3,
        target: `< ${limit} ms`, met: ours => ours < limit,
      },
    ]
  })

/** Every kind of search query, p50 and p99; the issue's target is on the three it names. */
const searchRows = (): Row[] =>
  ([['Common', 'a common word', true], ['Rare', 'a rare word', true], ['TwoWords', 'two words', true], ['Start', 'the start of a common word', false], ['OneRoom', 'a common word in one room', false]] as const)
    .flatMap(([kind, what, targeted]): Row[] => [
      { scenario: 'search', key: `http${kind}P50`, label: `HTTP ${what} p50 (ms)`, decimals: 3 },
      {
        scenario: 'search', key: `http${kind}P99`, label: `HTTP ${what} p99 (ms)`, decimals: 3,
        ...(targeted ? { target: '< 20 ms', met: (ours: number) => ours < 20 } : {}),
      },
      { scenario: 'search', key: `cpu${kind}Us`, label: `server CPU per query, ${what} (µs)`, decimals: 0 },
    ])

const ROWS: Row[] = [
  { scenario: 'fanout', key: 'deliveriesPerSecond', label: 'deliveries/s', decimals: 0 },
  { scenario: 'fanout', key: 'latencyP50', label: 'delivery latency p50 (ms)', decimals: 2 },
  { scenario: 'fanout', key: 'latencyP95', label: 'delivery latency p95 (ms)', decimals: 2 },
  {
    scenario: 'fanout', key: 'latencyP99', label: 'delivery latency p99 (ms)', decimals: 2,
    target: '<= 2x floor and < 30 ms', met: (ours, floor) => ours <= 2 * floor && ours < 30,
  },
  { scenario: 'fanout', key: 'latencyMax', label: 'delivery latency max (ms)', decimals: 2 },
  {
    scenario: 'fanout', key: 'cpuPerDeliveryUs', label: 'server CPU per delivery (µs)', decimals: 2,
    target: '<= 1.3x floor', met: (ours, floor) => ours <= 1.3 * floor,
  },
  { scenario: 'fanout', key: 'cpuPerMessageUs', label: 'server CPU per message (µs)', decimals: 0 },
  { scenario: 'fanout', key: 'peakRssMiB', label: 'server peak RSS (MiB)', decimals: 1 },
  zero('fanout', 'missing', 'missing deliveries'),
  zero('fanout', 'duplicate', 'duplicate deliveries'),
  zero('fanout', 'failedPosts', 'failed posts'),
  { scenario: 'fanout', key: 'serverCpuPercent', label: 'server CPU busy (% of its core)', decimals: 0 },
  { scenario: 'fanout', key: 'loadCpuPercent', label: 'load generator CPU (% of its core)', decimals: 0 },
  { scenario: 'changes', key: 'deliveriesPerSecond', label: 'deliveries/s', decimals: 0 },
  { scenario: 'changes', key: 'latencyP50', label: 'delivery latency p50 (ms)', decimals: 2 },
  { scenario: 'changes', key: 'latencyP99', label: 'delivery latency p99 (ms)', decimals: 2, target: '< 30 ms', met: ours => ours < 30 },
  { scenario: 'changes', key: 'cpuPerDeliveryUs', label: 'server CPU per delivery (µs)', decimals: 2 },
  {
    scenario: 'changes', key: 'cpuPerDeliveryVsFanout', label: 'CPU per delivery / fanout\'s (new messages)', decimals: 2,
    target: '<= 1.5', met: ours => ours <= 1.5,
  },
  zero('changes', 'missing', 'missing deliveries'),
  zero('changes', 'duplicate', 'duplicate deliveries'),
  zero('changes', 'failedPosts', 'failed changes'),
  { scenario: 'changes', key: 'serverCpuPercent', label: 'server CPU busy (% of its core)', decimals: 0 },
  {
    scenario: 'ingest', key: 'acceptedPerSecond', label: 'accepted messages/s', decimals: 0,
    target: '>= 0.7x floor', met: (ours, floor) => ours >= 0.7 * floor,
  },
  { scenario: 'ingest', key: 'postP50', label: 'POST latency p50 (ms)', decimals: 2 },
  { scenario: 'ingest', key: 'postP99', label: 'POST latency p99 (ms)', decimals: 2 },
  { scenario: 'ingest', key: 'cpuPerMessageUs', label: 'server CPU per message (µs)', decimals: 1 },
  zero('ingest', 'missing', 'missing deliveries'),
  zero('ingest', 'duplicate', 'duplicate deliveries'),
  zero('ingest', 'failedPosts', 'failed posts'),
  { scenario: 'ingest', key: 'serverCpuPercent', label: 'server CPU busy (% of its core)', decimals: 0 },
  { scenario: 'ingest', key: 'loadCpuPercent', label: 'load generator CPU (% of its core)', decimals: 0 },
  {
    scenario: 'idle', key: 'rssPerStreamKiB', label: 'server RSS per stream (KiB)', decimals: 1,
    target: '<= 1.5x floor', met: (ours, floor) => ours <= 1.5 * floor,
  },
  { scenario: 'idle', key: 'openMs', label: 'time to open them all (ms)', decimals: 0 },
  zero('idle', 'dropped', 'streams closed by the server'),
  { scenario: 'upload', key: 'mibPerSecond', label: 'uploaded MiB/s', decimals: 0 },
  {
    scenario: 'upload', key: 'rssGrowthMiB', label: 'server RSS growth while uploading (MiB)', decimals: 1,
    target: '< 40 MiB', met: ours => ours < 40,
  },
  { scenario: 'upload', key: 'cpuPerMiBMs', label: 'server CPU per MiB (ms)', decimals: 2 },
  zero('upload', 'failedUploads', 'failed uploads'),
  { scenario: 'upload', key: 'serverCpuPercent', label: 'server CPU busy (% of its core)', decimals: 0 },
  ...pageRows('http', 'HTTP', 5),
  { scenario: 'history', key: 'httpRoomsP50', label: 'HTTP room list p50 (ms)', decimals: 3 },
  { scenario: 'history', key: 'httpRoomsP99', label: 'HTTP room list p99 (ms)', decimals: 3 },
  ...pageRows('store', 'in-process', 2),
  { scenario: 'history', key: 'storeRoomsP50', label: 'in-process room list p50 (ms)', decimals: 3 },
  { scenario: 'history', key: 'storeRoomsP99', label: 'in-process room list p99 (ms)', decimals: 3 },
  ...searchRows(),
  zero('search', 'shortPages', 'common-word pages short of the limit'),
  {
    scenario: 'startup', key: 'emptyMs', label: 'exec to /healthz, new database (ms)', decimals: 1,
    target: '< 150 ms', met: ours => ours < 150,
  },
  { scenario: 'startup', key: 'emptyCpuMs', label: 'server CPU until then, new database (ms)', decimals: 1 },
  {
    scenario: 'startup', key: 'seededMs', label: 'exec to /healthz, history database (ms)', decimals: 1,
    target: '< 300 ms (1M messages)', met: ours => ours < 300,
  },
  { scenario: 'startup', key: 'seededCpuMs', label: 'server CPU until then, history database (ms)', decimals: 1 },
]

/** Figures that count something that must not happen; summed over rounds, never picked. */
export const COUNTS = new Set(ROWS.filter(row => row.mustBeZero).map(row => row.key))

export function describePlan(plan: Plan): Record<Scenario | 'rounds' | 'postgres', string> {
  const n = (value: number) => value.toLocaleString('en-US')
  const { fanout, changes, ingest, idle, upload, history, search, startup } = plan
  return {
    fanout: `fanout: ${n(fanout.subscribers)} subscribers in one room, ${n(fanout.messages)} messages posted at ${fanout.rate}/s`,
    changes:
      `changes: ${n(changes.subscribers)} subscribers in one room, ${n(changes.messages)} edits and reactions at ${changes.rate}/s, ` +
      'one message each (ours only: the floor has no edits)',
    ingest: `ingest: ${ingest.posters} concurrent posters for ${ingest.durationMs / 1000} s, ${ingest.listeners} listeners`,
    idle: `idle: ${n(idle.streams)} idle streams`,
    upload: `upload: ${upload.uploads} uploads of ${upload.bytes / (1024 * 1024)} MiB at once (ours only: the floor has no files)`,
    history:
      `history: ${n(history.messages)} messages over ${n(history.rooms)} rooms (every tenth a reply with a reaction), pages of ${history.limit}, ` +
      `room list of a user in ${history.readerRooms} rooms, ${n(history.samples)} requests each`,
    search:
      `search: the history database as a user in ${search.readerRooms} of its rooms: a common word (in every message), a rare word (a message's number), ` +
      `two words, the start of a common word, a common word in one room; pages of ${search.limit}, ${n(search.samples)} requests each (ours only: the floor has no search)`,
    startup: `startup: best of ${startup.runs} starts; the history database is the one above`,
    rounds: `fanout, changes, ingest, idle, upload: ${plan.rounds === 1 ? 'one round' : `the best of ${plan.rounds} interleaved rounds (least server CPU or memory per unit)`}`,
    postgres:
      'PostgreSQL: ours on the PostgreSQL store (DATABASE_URL) for fanout, ingest and history, the same sizes and rounds as on SQLite, ' +
      'each scenario on a database of its own (created, then dropped); database CPU is its backends\' (the cluster\'s shared processes not counted)',
  }
}

export const figure = (outcome: Outcome | undefined, key: string): number | undefined =>
  outcome && !('error' in outcome) ? outcome[key] : undefined

export function format(value: number, decimals: number): string {
  if (!Number.isFinite(value)) return '-'
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals })
}

function cell(outcome: Outcome | undefined, row: Row): string {
  if (!outcome) return 'not run'
  if ('error' in outcome) return 'error'
  const value = outcome[row.key]
  return value === undefined ? '-' : format(value, row.decimals)
}

/** Rows of cells as a markdown table, columns padded so it also reads in a terminal. */
export function markdownTable(header: string[], lines: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map(line => line[column]!.length)))
  const render = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`
  return [render(header), render(widths.map(width => '-'.repeat(width))), ...lines.map(render)].join('\n')
}

/** The table of ours against the floor (the scenarios that ran). */
export function table(results: Results): string {
  const header = ['scenario', 'figure', 'ours', 'floor', 'ours/floor', 'target', 'met']
  const rows = ROWS.filter(row => Object.keys(results[row.scenario]).length > 0)
  const lines = rows.map((row, i) => {
    const ours = figure(results[row.scenario].ours, row.key)
    const floor = figure(results[row.scenario].floor, row.key)
    const ratio = !row.mustBeZero && ours !== undefined && floor ? format(ours / floor, 2) : ''
    // A target on ours alone (a one-argument check) is judged where the floor cannot run.
    const judged = row.met && ours !== undefined && (floor !== undefined || row.met.length === 1)
    const met = judged ? (row.met!(ours, floor ?? Number.NaN) ? 'yes' : 'NO') : ''
    const first = i === 0 || rows[i - 1]!.scenario !== row.scenario
    const outcomes = results[row.scenario]
    return [first ? row.scenario : '', row.label, cell(outcomes.ours, row), cell(outcomes.floor, row), ratio, row.target ?? '', met]
  })
  return markdownTable(header, lines)
}

/** Why the run must exit non-zero; empty when it need not. */
export function failures(results: Results): string[] {
  const found: string[] = []
  for (const [scenario, outcomes] of Object.entries(results)) {
    for (const [target, outcome] of Object.entries(outcomes)) {
      if (outcome && 'error' in outcome) found.push(`${scenario} on ${target} did not run: ${outcome.error}`)
    }
  }
  for (const row of ROWS.filter(row => row.mustBeZero)) {
    for (const [target, outcome] of Object.entries(results[row.scenario])) {
      const value = figure(outcome, row.key)
      if (value) found.push(`${row.scenario} on ${target}: ${value} ${row.label}`)
    }
  }
  return found
}
