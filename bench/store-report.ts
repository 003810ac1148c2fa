/**
 * The second table of `--store postgres`: ours on PostgreSQL against ours on SQLite, measured
 * in the same run at the same sizes, with the targets (printed, never asserted; the
 * counts of lost or doubled deliveries fail the run as they do for every target).
 */
import { SQL } from 'bun'
import { POSTGRES_ADMIN_URL } from '../test/support/postgres'
import type { Scenario } from './plan'
import { figure, format, markdownTable, type Outcome, type Results } from './report'

interface StoreRow {
  scenario: Scenario
  /** The PostgreSQL figure. */
  key: string
  /**
   * The SQLite figure it reads against, when not `key`: "server + database CPU" on PostgreSQL
   * is the server's CPU alone on SQLite, whose database runs inside the server process.
   */
  sqliteKey?: string
  label: string
  decimals: number
  target?: string
  met?: (postgres: number, sqlite: number) => boolean
  /** Ratios are for figures, not for counts that must be zero. */
  count?: boolean
}

const HISTORY_P99_MS = 10
const historyRows = (prefix: 'http' | 'store', where: string): StoreRow[] =>
  (['Newest', 'Before', 'After'] as const).flatMap((kind): StoreRow[] => {
    const page = { Newest: 'newest page', Before: 'page before id', After: 'page after id' }[kind]
    return [
      { scenario: 'history', key: `${prefix}${kind}P50`, label: `${where} ${page} p50 (ms)`, decimals: 3 },
      {
        scenario: 'history', key: `${prefix}${kind}P99`, label: `${where} ${page} p99 (ms)`, decimals: 3,
        // The target is the answer a client gets: over HTTP.
        ...(prefix === 'http' ? { target: `< ${HISTORY_P99_MS} ms`, met: (postgres: number) => postgres < HISTORY_P99_MS } : {}),
      },
    ]
  })
const counts = (scenario: Scenario, what: string): StoreRow[] => [
  { scenario, key: 'missing', label: 'missing deliveries', decimals: 0, count: true, target: '0', met: postgres => postgres === 0 },
  { scenario, key: 'duplicate', label: 'duplicate deliveries', decimals: 0, count: true, target: '0', met: postgres => postgres === 0 },
  { scenario, key: 'failedPosts', label: `failed ${what}`, decimals: 0, count: true, target: '0', met: postgres => postgres === 0 },
]
const within10Percent = (postgres: number, sqlite: number) => postgres <= 1.1 * sqlite

const ROWS: StoreRow[] = [
  { scenario: 'ingest', key: 'acceptedPerSecond', label: 'accepted messages/s', decimals: 0, target: '>= 0.5x SQLite', met: (postgres, sqlite) => postgres >= 0.5 * sqlite },
  { scenario: 'ingest', key: 'postP50', label: 'POST latency p50 (ms)', decimals: 2 },
  { scenario: 'ingest', key: 'postP99', label: 'POST latency p99 (ms)', decimals: 2 },
  { scenario: 'ingest', key: 'cpuPerMessageUs', label: 'server CPU per message (µs)', decimals: 1 },
  { scenario: 'ingest', key: 'databaseCpuPerMessageUs', label: 'database CPU per message (µs)', decimals: 1 },
  { scenario: 'ingest', key: 'totalCpuPerMessageUs', sqliteKey: 'cpuPerMessageUs', label: 'server + database CPU per message (µs)', decimals: 1 },
  { scenario: 'ingest', key: 'transactionsPerMessage', label: 'database transactions per message (writes and reads)', decimals: 2 },
  { scenario: 'ingest', key: 'serverCpuPercent', label: 'server CPU busy (% of its core)', decimals: 0 },
  ...counts('ingest', 'posts'),
  { scenario: 'fanout', key: 'deliveriesPerSecond', label: 'deliveries/s', decimals: 0 },
  { scenario: 'fanout', key: 'latencyP50', label: 'delivery latency p50 (ms)', decimals: 2 },
  { scenario: 'fanout', key: 'latencyP99', label: 'delivery latency p99 (ms)', decimals: 2 },
  { scenario: 'fanout', key: 'cpuPerDeliveryUs', label: 'server CPU per delivery (µs)', decimals: 2, target: 'within 10% of SQLite', met: within10Percent },
  {
    scenario: 'fanout', key: 'totalCpuPerDeliveryUs', sqliteKey: 'cpuPerDeliveryUs', label: 'server + database CPU per delivery (µs)', decimals: 2,
    target: 'within 10% of SQLite', met: within10Percent,
  },
  { scenario: 'fanout', key: 'databaseCpuPerMessageUs', label: 'database CPU per message (µs)', decimals: 0 },
  { scenario: 'fanout', key: 'transactionsPerMessage', label: 'database transactions per message (writes and reads)', decimals: 2 },
  { scenario: 'fanout', key: 'peakRssMiB', label: 'server peak RSS (MiB)', decimals: 1 },
  ...counts('fanout', 'posts'),
  ...historyRows('http', 'HTTP'),
  { scenario: 'history', key: 'httpRoomsP50', label: 'HTTP room list p50 (ms)', decimals: 3 },
  { scenario: 'history', key: 'httpRoomsP99', label: 'HTTP room list p99 (ms)', decimals: 3 },
  ...historyRows('store', 'in-process'),
  { scenario: 'history', key: 'storeRoomsP50', label: 'in-process room list p50 (ms)', decimals: 3 },
  { scenario: 'history', key: 'storeRoomsP99', label: 'in-process room list p99 (ms)', decimals: 3 },
]

function cell(outcome: Outcome | undefined, key: string, decimals: number): string {
  if (!outcome) return 'not run'
  if ('error' in outcome) return 'error'
  const value = outcome[key]
  return value === undefined ? '-' : format(value, decimals)
}

/** The scenarios that ran on PostgreSQL, each figure as SQLite, PostgreSQL and their ratio. */
export function storeTable(results: Results): string {
  const header = ['scenario', 'figure', 'sqlite', 'postgres', 'postgres/sqlite', 'target', 'met']
  const rows = ROWS.filter(row => results[row.scenario].postgres !== undefined)
  const lines = rows.map((row, i) => {
    const sqliteKey = row.sqliteKey ?? row.key
    const sqlite = figure(results[row.scenario].ours, sqliteKey)
    const postgres = figure(results[row.scenario].postgres, row.key)
    const ratio = !row.count && postgres !== undefined && sqlite ? format(postgres / sqlite, 2) : ''
    const judged = row.met && postgres !== undefined && (sqlite !== undefined || row.met.length === 1)
    const met = judged ? (row.met!(postgres, sqlite ?? Number.NaN) ? 'yes' : 'NO') : ''
    const first = i === 0 || rows[i - 1]!.scenario !== row.scenario
    return [
      first ? row.scenario : '', row.label,
      cell(results[row.scenario].ours, sqliteKey, row.decimals), cell(results[row.scenario].postgres, row.key, row.decimals),
      ratio, row.target ?? '', met,
    ]
  })
  return markdownTable(header, lines)
}

/** The server's version and commit setting, for the header: both move every PostgreSQL figure. */
export async function postgresVersion(): Promise<string> {
  const sql = new SQL(POSTGRES_ADMIN_URL, { max: 1 })
  try {
    const [row] = await sql`SELECT current_setting('server_version') AS version, current_setting('synchronous_commit') AS commit,
                                   current_setting('shared_buffers') AS buffers`
    return `PostgreSQL ${row.version} (synchronous_commit ${row.commit}, shared_buffers ${row.buffers}) at ${new URL(POSTGRES_ADMIN_URL).host}`
  } catch (error) {
    return `PostgreSQL: ${(error as Error).message}`
  } finally {
    await sql.close({ timeout: 1 })
  }
}
