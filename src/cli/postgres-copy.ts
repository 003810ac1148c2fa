import { SQL } from 'bun'
import type { Database as SqliteDatabase } from 'bun:sqlite'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { migrate } from '../store/postgres/migrations'
import { openDatabase as openSqlite } from '../store/sqlite/database'
import { CliError } from './command'
import { COPIED_TABLES, isSqliteOnly, POSTGRES_ONLY, REPLACED_TABLES } from './copy-tables'

/**
 * Copies a SQLite database of this version into an empty PostgreSQL database, keeping every
 * id, so sessions, tokens, links and stream cursors (Last-Event-ID) stay valid across the move.
 *
 * The SQLite file is opened as the server opens it: migrated up to this version first (an
 * older file is upgraded, as starting this server on it would; a newer one is refused). It is
 * read in one read transaction, so the copy is the database as of one moment even if a server
 * still writes to it (what it writes later is not copied: stop the servers first). The
 * PostgreSQL side is migrated, then filled in one transaction: all or nothing. Each table is
 * read in primary-key order and inserted in batches of up to BATCH_ROWS rows per statement; a
 * batch is read while the one before it is being inserted. The copy runs at the database's own
 * insert speed (a bulk insert from here cost what INSERT ... SELECT inside the server did; the
 * search vector each message computes is most of it). Afterwards the event counter stands where
 * SQLite's did and every identity sequence is past the largest id ever used (SQLite's
 * AUTOINCREMENT counters included), so the next message's id is greater than every copied one.
 * Row counts are compared table by table before the commit.
 */

export interface CopyResult {
  source: string
  /** The target URL without its password. */
  target: string
  tables: { table: string; rows: number }[]
  rows: number
  /** The event counter after the copy: the newest message or change id ever handed out. */
  lastEventId: number
  /** Text values that held a NUL character, written with U+FFFD in its place (replaceNul). */
  nulReplaced: number
  ms: number
}

export interface CopyOptions {
  databasePath: string
  databaseUrl: string
  /**
   * PostgreSQL's text and jsonb cannot hold a NUL character, which SQLite's can (a message
   * sent with one). Without this, such a value stops the copy, naming its row; with it, the
   * NUL is written as U+FFFD and counted.
   */
  replaceNul?: boolean
}

const BATCH_ROWS = 5_000
/** PostgreSQL's protocol counts a statement's parameters in 16 bits. */
const MAX_PARAMETERS = 65_535

type ColumnType = 'bytea' | 'json' | 'boolean' | 'text' | 'other'

interface PgColumn {
  table_name: string
  column_name: string
  data_type: string
  is_identity: string
  is_generated: string
  has_default: boolean
}

interface TablePlan {
  table: string
  columns: { name: string; type: ColumnType }[]
  /** SQLite's primary key, the order rows are read in. */
  order: string[]
  /** The identity column whose sequence goes past the copied ids. */
  identity: string | null
}

/** The URL as it may be printed: its password replaced. */
export function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.toString()
  } catch {
    return '(an unparsable URL)'
  }
}

export async function copyToPostgres(options: CopyOptions): Promise<CopyResult> {
  const started = performance.now()
  const source = resolve(options.databasePath)
  const target = redactedUrl(options.databaseUrl)
  if (!existsSync(source)) throw new CliError(`no database at ${source} (set DATABASE_PATH or --database-path)`)
  const sqlite = openSqlite(source)
  const pg = new SQL(options.databaseUrl, { max: 1, connectionTimeout: 10, connection: { application_name: 'chat-server copy-to-postgres' } })
  try {
    try {
      await pg`SELECT 1`
    } catch (error) {
      throw new CliError(`cannot reach PostgreSQL at ${target}: ${(error as Error).message ?? String(error)}`)
    }
    await migrate(pg)
    const plans = await planTables(sqlite, pg)
    sqlite.run('BEGIN')
    try {
      const copied = await pg.begin(async (tx) => {
        // Self-exclusive and blocking other writers of these tables: of two copies at once, the
        // second waits and then finds the first one's rows; a server cannot register meanwhile.
        await tx`LOCK TABLE users, messages IN SHARE ROW EXCLUSIVE MODE`
        const [used] = await tx`SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM messages) AS used`
        if (used.used) throw new CliError(`the PostgreSQL database ${target} is not empty (it has users or messages): copy into a new, empty database`)
        // The triggers that derive rows from inserted ones (the delivery queue from messages)
        // stay off while the copy runs: the derived rows are copied themselves, and a history
        // must not be webhooked or pushed again. Foreign keys are still checked (system
        // triggers). Off inside this transaction only: no server ever sees them off.
        for (const plan of plans) await tx`ALTER TABLE ${tx(plan.table)} DISABLE TRIGGER USER`
        const rebuild = await dropQueryIndexes(tx as unknown as SQL, plans.map((p) => p.table))
        const tables: CopyResult['tables'] = []
        const nul: NulPolicy = { replace: options.replaceNul === true, replaced: 0 }
        for (const plan of plans) tables.push({ table: plan.table, rows: await copyTable(sqlite, tx as unknown as SQL, plan, nul) })
        await tx`SET LOCAL maintenance_work_mem = '128MB'`
        for (const definition of rebuild) await tx.unsafe(definition)
        for (const plan of plans) await tx`ALTER TABLE ${tx(plan.table)} ENABLE TRIGGER USER`
        await verifyCounts(tx as unknown as SQL, tables)
        for (const plan of plans) if (plan.identity) await moveSequence(sqlite, tx as unknown as SQL, plan.table, plan.identity)
        const lastEventId = lastSqliteEventId(sqlite)
        await tx`UPDATE event_sequence SET last_id = GREATEST(last_id, ${lastEventId})`
        return { tables, lastEventId, nulReplaced: nul.replaced }
      })
      // Fresh statistics, so the first queries on the copy are planned for its real size.
      await pg`ANALYZE`
      return {
        source,
        target,
        tables: copied.tables,
        rows: copied.tables.reduce((sum, t) => sum + t.rows, 0),
        lastEventId: copied.lastEventId,
        nulReplaced: copied.nulReplaced,
        ms: performance.now() - started,
      }
    } finally {
      sqlite.run('ROLLBACK')
    }
  } finally {
    sqlite.close()
    await pg.close({ timeout: 1 }).catch(() => {})
  }
}

/**
 * Each copied table's columns and read order, after checking that both schemas hold the same
 * tables and columns: a table or column this version's copy does not know would be lost
 * silently otherwise, so it stops the copy before anything is written.
 */
async function planTables(sqlite: SqliteDatabase, pg: SQL): Promise<TablePlan[]> {
  const sqliteTables = (sqlite.query(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map((r) => r.name)
  const known = new Set(COPIED_TABLES)
  for (const table of sqliteTables) {
    if (!known.has(table) && !isSqliteOnly(table)) throw new CliError(`the SQLite table ${table} has no place in the copy of this version; nothing was copied`)
  }
  const pgColumns = (await pg`
    SELECT c.table_name, c.column_name, c.data_type, c.is_identity, c.is_generated, c.column_default IS NOT NULL AS has_default
    FROM information_schema.columns c JOIN information_schema.tables t USING (table_schema, table_name)
    WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
    ORDER BY c.table_name, c.ordinal_position`) as PgColumn[]
  for (const row of pgColumns) {
    if (!known.has(row.table_name) && !POSTGRES_ONLY.has(row.table_name)) {
      throw new CliError(`the PostgreSQL table ${row.table_name} has no source in the copy of this version; nothing was copied`)
    }
  }
  return COPIED_TABLES.map((table) => {
    const lite = sqlite.query(`SELECT name, pk FROM pragma_table_info(?)`).all(table) as { name: string; pk: number }[]
    const liteNames = new Set(lite.map((c) => c.name))
    const pgTable = pgColumns.filter((c) => c.table_name === table && c.is_generated !== 'ALWAYS')
    // A column of PostgreSQL's own (an identity or a default: the order of a queue) fills itself.
    const columns = pgTable.filter((c) => liteNames.has(c.column_name))
    const unmatched = [
      ...lite.filter((c) => !pgTable.some((p) => p.column_name === c.name)).map((c) => `SQLite's ${c.name}`),
      ...pgTable.filter((c) => !liteNames.has(c.column_name) && c.is_identity !== 'YES' && !c.has_default).map((c) => `PostgreSQL's ${c.column_name}`),
    ]
    if (lite.length === 0 || pgTable.length === 0 || unmatched.length > 0) {
      const missing = lite.length === 0 ? 'no SQLite table' : pgTable.length === 0 ? 'no PostgreSQL table' : `no place for ${unmatched.join(', ')}`
      throw new CliError(`table ${table}: ${missing}; nothing was copied`)
    }
    const order = lite.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name)
    return {
      table,
      columns: columns.map((c) => ({ name: c.column_name, type: columnType(c.data_type) })),
      order: order.length > 0 ? order : ['rowid'],
      identity: columns.find((c) => c.is_identity === 'YES')?.column_name ?? null,
    }
  })
}

function columnType(dataType: string): ColumnType {
  if (dataType === 'bytea') return 'bytea'
  if (dataType === 'jsonb' || dataType === 'json') return 'json'
  if (dataType === 'boolean') return 'boolean'
  if (dataType === 'text' || dataType === 'character varying') return 'text'
  return 'other'
}

/**
 * Drops the indexes of `tables` that serve queries only (not a primary key, unique constraint
 * or exclusion: those check the rows and serve the foreign keys) and returns their
 * definitions, to be built once after the load: in the same transaction, so no reader ever
 * sees them missing. One build of the search index and the B-trees over the loaded rows took
 * ~30% less time than growing them row by row (100,000 messages, 172 against 237 us a row).
 */
async function dropQueryIndexes(tx: SQL, tables: string[]): Promise<string[]> {
  const indexes = (await tx`
    SELECT i.indexname, i.indexdef FROM pg_indexes i
    WHERE i.schemaname = current_schema() AND i.tablename IN ${tx(tables)}
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = format('%I.%I', i.schemaname, i.indexname)::regclass)
    ORDER BY i.tablename, i.indexname`) as { indexname: string; indexdef: string }[]
  for (const index of indexes) await tx`DROP INDEX ${tx(index.indexname)}`
  return indexes.map((index) => index.indexdef)
}

/** Copies one table; returns its row count. */
async function copyTable(sqlite: SqliteDatabase, tx: SQL, plan: TablePlan, nul: NulPolicy): Promise<number> {
  const names = plan.columns.map((c) => c.name)
  const select = sqlite.prepare(`SELECT ${names.map((n) => `"${n}"`).join(', ')} FROM "${plan.table}" ORDER BY ${plan.order.map((n) => `"${n}"`).join(', ')}`)
  const batchRows = Math.min(BATCH_ROWS, Math.floor(MAX_PARAMETERS / names.length))
  const convert = rowConverter(plan, nul)
  if (REPLACED_TABLES.has(plan.table)) await tx`DELETE FROM ${tx(plan.table)}`
  let rows = 0
  let inFlight: Promise<unknown> | undefined
  let batch: Record<string, unknown>[] = []
  const send = async () => {
    if (inFlight) await inFlight
    const insert = tx`INSERT INTO ${tx(plan.table)} ${tx(batch, ...names)}`.execute()
    // Awaited before the next batch (or at the end); until then a failure must not count as unhandled.
    insert.catch(() => {})
    inFlight = insert
    batch = []
  }
  try {
    for (const row of select.iterate() as IterableIterator<Record<string, unknown>>) {
      batch.push(convert(row))
      rows++
      if (batch.length === batchRows) await send()
    }
    if (batch.length > 0) await send()
    if (inFlight) await inFlight
  } catch (error) {
    if (error instanceof CliError) throw error
    throw new CliError(`copying ${plan.table} failed after ${rows} rows read: ${(error as Error).message ?? String(error)}; nothing was copied`)
  } finally {
    select.finalize()
  }
  return rows
}

interface NulPolicy {
  replace: boolean
  replaced: number
}

const NUL = '\u0000'
const JSON_NUL = '\\u0000'
const REPLACEMENT = '\ufffd'

/**
 * SQLite's values as PostgreSQL's columns take them: JSON text parsed for jsonb, 0/1 as
 * booleans, a NUL character in text refused or replaced (NulPolicy).
 */
function rowConverter(plan: TablePlan, nul: NulPolicy): (row: Record<string, unknown>) => Record<string, unknown> {
  const named = (type: ColumnType) => plan.columns.filter((c) => c.type === type).map((c) => c.name)
  const [texts, json, booleans] = [named('text'), named('json'), named('boolean')]
  const withoutNul = (row: Record<string, unknown>, column: string, text: string): string => {
    if (!text.includes(NUL)) return text
    if (!nul.replace) {
      const key = plan.order.map((k) => `${k} ${JSON.stringify(row[k])}`).join(', ')
      throw new CliError(`${plan.table} (${key}): ${column} holds a NUL character, which PostgreSQL cannot store; nothing was copied (--replace-nul writes U+FFFD in its place)`)
    }
    nul.replaced++
    return text.replaceAll(NUL, REPLACEMENT)
  }
  const scrub = (row: Record<string, unknown>, column: string, value: unknown): unknown => {
    if (typeof value === 'string') return withoutNul(row, column, value)
    if (Array.isArray(value)) return value.map((item) => scrub(row, column, item))
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, scrub(row, column, v)]))
    return value
  }
  return (row) => {
    for (const name of texts) if (typeof row[name] === 'string') row[name] = withoutNul(row, name, row[name] as string)
    for (const name of json) {
      const text = row[name]
      if (typeof text !== 'string') continue
      // In JSON text a NUL can only be written as an escape: only then are its strings walked.
      row[name] = text.includes(JSON_NUL) ? scrub(row, name, JSON.parse(text)) : JSON.parse(text)
    }
    for (const name of booleans) if (row[name] !== null) row[name] = Boolean(row[name])
    return row
  }
}

/** Every table holds exactly the rows read: nothing dropped or added on the way (else all is undone). */
async function verifyCounts(tx: SQL, tables: CopyResult['tables']): Promise<void> {
  for (const { table, rows } of tables) {
    const [row] = await tx`SELECT count(*) AS n FROM ${tx(table)}`
    if (Number(row.n) !== rows) throw new CliError(`table ${table}: ${rows} rows read from SQLite but ${Number(row.n)} in PostgreSQL after the copy; nothing was copied`)
  }
}

/**
 * The identity sequence past the largest id the table ever used: its largest copied id, or
 * AUTOINCREMENT's counter when the newest rows were deleted (a revoked session's id is not
 * handed out again).
 */
async function moveSequence(sqlite: SqliteDatabase, tx: SQL, table: string, column: string): Promise<void> {
  const largest = sqlite.query(`SELECT max(coalesce((SELECT max("${column}") FROM "${table}"), 0), coalesce((SELECT seq FROM sqlite_sequence WHERE name = ?), 0)) AS n`).get(table) as { n: number }
  if (largest.n > 0) await tx`SELECT setval(pg_get_serial_sequence(${table}, ${column}), ${largest.n})`
}

/** SQLite's event counter (kept at or past every message and change id by its triggers). */
function lastSqliteEventId(sqlite: SqliteDatabase): number {
  const row = sqlite
    .query(`SELECT max(coalesce((SELECT last_id FROM event_sequence), 0), coalesce((SELECT max(id) FROM messages), 0), coalesce((SELECT max(id) FROM message_events), 0)) AS n`)
    .get() as { n: number }
  return row.n
}
