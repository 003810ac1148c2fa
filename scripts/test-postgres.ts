/**
 * Runs the API suites on the PostgreSQL store: every test file that starts a server
 * (startServer, spawnServer, startCluster, startServerAndBrowser) runs with
 * CHAT_TEST_STORE=postgres, so each server gets a new database on the machine's PostgreSQL
 * (test/support/postgres.ts) and a new API test file is included without being listed here.
 * Files that are SQLite's by nature (they open the file, upgrade or back it up, or run the
 * command line on --database-path) say so with a `// store: sqlite only (why)` line and are
 * left out. In-process by default; a CHAT_SERVER_BIN in the environment is passed on.
 * Before and after the run, test databases whose process is gone are dropped (a crashed run's,
 * and the spawned servers' that outlive their stop()).
 * Usage: bun scripts/test-postgres.ts [test files]   (none: every file that starts a server)
 */
import { SQL } from 'bun'
import { resolve } from 'node:path'
import { dropLeftoverTestDatabases, POSTGRES_ADMIN_URL } from '../test/support/postgres'

const ROOT = resolve(import.meta.dir, '..')
const STARTS_A_SERVER = /\b(startServer|spawnServer|startCluster|startServerAndBrowser)\(/
const SQLITE_ONLY = /^\/\/ store: sqlite only \((.+)\)$/m
const started = Date.now()

if (!(await postgresAnswers())) {
  const why = `no PostgreSQL answers at ${POSTGRES_ADMIN_URL} (set TEST_POSTGRES_URL, or run bash scripts/install-test-deps.sh)`
  if (process.env.CI === 'true') {
    console.error(`test-postgres: ${why}`)
    process.exit(1)
  }
  console.log(`test-postgres: skipped: ${why}`)
  process.exit(0)
}

const { files, sqliteOnly } = await selectFiles(process.argv.slice(2))
for (const { file, why } of sqliteOnly) console.log(`test-postgres: not on PostgreSQL: ${file} (${why})`)
if (files.length === 0) {
  console.error('test-postgres: no test file to run')
  process.exit(1)
}
const leftovers = await dropLeftoverTestDatabases(started)
if (leftovers.length > 0) console.log(`test-postgres: test databases left by earlier runs dropped: ${leftovers.length}`)
console.log(`test-postgres: ${files.length} files on PostgreSQL (${process.env.CHAT_SERVER_BIN ? `binary ${process.env.CHAT_SERVER_BIN}` : 'in-process'}):`)
for (const file of files) console.log(`  ${file}`)

const connections = watchConnections()
const run = Bun.spawn([process.execPath, 'test', '--timeout', '60000', ...files], {
  cwd: ROOT,
  env: { ...process.env, CHAT_TEST_STORE: 'postgres' },
  stdio: ['inherit', 'inherit', 'inherit'],
})
const code = await run.exited
const { peak, max } = await connections.stop()
const dropped = await dropLeftoverTestDatabases()
console.log(`test-postgres: ${files.length} files in ${((Date.now() - started) / 1000).toFixed(0)} s, exit code ${code}; ` +
  `PostgreSQL connections at most ${peak} of ${max} (the whole server); test databases left by the run dropped: ${dropped.length}`)
process.exit(code)

async function postgresAnswers(): Promise<boolean> {
  const sql = new SQL(POSTGRES_ADMIN_URL, { max: 1, connectionTimeout: 3 })
  try {
    await sql`SELECT 1`
    return true
  } catch {
    return false
  } finally {
    await sql.close({ timeout: 0 }).catch(() => {})
  }
}

/** The files named (or every test file that starts a server), split by the SQLite-only mark. */
async function selectFiles(named: string[]) {
  const candidates: string[] = []
  if (named.length > 0) candidates.push(...named.map((f) => `./${resolve(f).slice(ROOT.length + 1)}`))
  else {
    for await (const file of new Bun.Glob('test/**/*.test.ts').scan({ cwd: ROOT })) {
      if (STARTS_A_SERVER.test(await Bun.file(resolve(ROOT, file)).text())) candidates.push(`./${file}`)
    }
  }
  const files: string[] = []
  const sqliteOnly: { file: string; why: string }[] = []
  for (const file of candidates.sort()) {
    const mark = SQLITE_ONLY.exec(await Bun.file(resolve(ROOT, file)).text())
    if (mark) sqliteOnly.push({ file, why: mark[1]! })
    else files.push(file)
  }
  return { files, sqliteOnly }
}

/**
 * Samples the server's connection count once a second: `bun test` runs every file in one
 * process, each server with its own pool, and PostgreSQL refuses past max_connections.
 */
function watchConnections() {
  const sql = new SQL(POSTGRES_ADMIN_URL, { max: 1 })
  let peak = 0
  let max = 0
  const sample = async () => {
    try {
      const [row] = await sql`SELECT count(*)::int AS n, current_setting('max_connections')::int AS max FROM pg_stat_activity WHERE backend_type = 'client backend'`
      peak = Math.max(peak, row.n)
      max = row.max
    } catch {
      // a missed sample only lowers the peak reported
    }
  }
  const timer = setInterval(sample, 1000)
  return {
    async stop() {
      clearInterval(timer)
      await sample()
      await sql.close({ timeout: 1 }).catch(() => {})
      return { peak, max }
    },
  }
}
