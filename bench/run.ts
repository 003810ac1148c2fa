/**
 * `bun run bench [--quick] [--target ours|floor] [--scenario <name>]... [--store sqlite|postgres] [--binary <path>]`:
 * every scenario (or the named ones) against our compiled server and against the floor
 * (bench/floor.ts), each on a fresh server process and database, the load from separate
 * processes on the other core. `--store postgres` also runs ours on PostgreSQL for fanout,
 * ingest and history, beside ours on SQLite, and prints the two side by side (the quick run
 * does so by default when a PostgreSQL server answers).
 * Prints the table, writes it to bench/results/<time>.md and .json, and exits non-zero when a
 * delivery went missing or came twice, a post failed, a stream was dropped or a scenario could
 * not run. Timings are never asserted: the targets are printed beside them.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createDatabase, dropAll, postgresAnswers, type BenchDatabase } from './databases'
import { runLoad } from './load-runner'
import type { LoadScenario } from './load/job'
import { FULL, QUICK, SCENARIOS, type Plan, type Scenario } from './plan'
import { PINNING, killAll, pinSelfToLoadCore } from './processes'
import { describePlan, failures, table, type Outcome, type Results } from './report'
import { bestRound } from './rounds'
import { startServer } from './server'
import { startup } from './startup'
import { postgresVersion, storeTable } from './store-report'
import { TARGETS } from './targets'
import { useBinary } from './targets/ours'
import type { StoreName, Target, TargetName } from './targets/target'

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const only = args.includes('--target') ? (args[args.indexOf('--target') + 1] as TargetName) : undefined
if (only && only !== 'ours' && only !== 'floor') throw new Error('--target must be one of: ours, floor')
const store = args.includes('--store') ? (args[args.indexOf('--store') + 1] as StoreName) : undefined
if (store && store !== 'sqlite' && store !== 'postgres') throw new Error('--store must be one of: sqlite, postgres')
if (store === 'postgres' && only === 'floor') throw new Error('--store postgres compares ours on both stores: not with --target floor')
const plan: Plan = quick ? QUICK : FULL
const named = args.flatMap((arg, i) => (arg === '--scenario' ? [args[i + 1] as Scenario] : []))
for (const name of named) if (!SCENARIOS.includes(name)) throw new Error(`--scenario must be one of: ${SCENARIOS.join(', ')}`)
const selected = (scenario: Scenario) => named.length === 0 || named.includes(scenario)
if (args.includes('--binary')) useBinary(resolve(args[args.indexOf('--binary') + 1] ?? ''))
const targets: Target[] = only ? [TARGETS[only]] : [TARGETS.ours, TARGETS.floor]
const log = (message: string) => console.error(message)

/**
 * Whether ours runs on PostgreSQL too: asked for, or by default in the quick run when a
 * PostgreSQL server answers (in CI one must: .ci/run starts it).
 */
async function comparesStores(): Promise<boolean> {
  if (store === 'sqlite' || only === 'floor' || (store === undefined && !quick)) return false
  const answer = await postgresAnswers()
  if (answer.ok) return true
  if (store === 'postgres') throw new Error(`--store postgres: ${answer.reason}`)
  if (process.env.CI === 'true') throw new Error(`CI: the quick run compares with PostgreSQL, but ${answer.reason}`)
  log(`not comparing with PostgreSQL: ${answer.reason}`)
  return false
}
const withPostgres = await comparesStores()
if (withPostgres) targets.push(TARGETS.postgres)
/**
 * Bounds each load generator; a hung one is killed and its scenario reported as an error. The
 * full history scenario asks 16,000 questions one at a time, each a few PostgreSQL round trips
 * on that store: minutes on a busy machine.
 */
const LOAD_TIMEOUT_MS = quick ? 60_000 : 300_000
/** Each on its own new database, in rounds; history and startup share the seeded one. */
const ROUNDED_SCENARIOS = ['fanout', 'changes', 'ingest', 'idle', 'upload'] as const

async function attempt(label: string, work: () => Promise<Outcome>): Promise<Outcome> {
  log(label)
  const started = performance.now()
  try {
    const outcome = await work()
    log(`  done in ${((performance.now() - started) / 1000).toFixed(1)} s`)
    return outcome
  } catch (error) {
    log(`  failed: ${(error as Error).message}`)
    return { error: (error as Error).message }
  }
}

/** A fresh server on `database`, one load generator against it, the server stopped. */
async function measure(target: Target, scenario: LoadScenario, database: BenchDatabase): Promise<Outcome> {
  const server = await startServer(target, database)
  try {
    const job = { scenario, target: target.name, port: server.port, pid: server.pid, database: database.location, params: plan[scenario] }
    return await runLoad(job, LOAD_TIMEOUT_MS)
  } finally {
    await server.stop()
  }
}

/** `measure` on a new database of the target's store, dropped afterwards. */
async function measureOnNew(target: Target, scenario: LoadScenario, label: string): Promise<Outcome> {
  const database = await createDatabase(target.store, workDir, label)
  try {
    return await measure(target, scenario, database)
  } finally {
    await database.drop()
  }
}

/** Every round's outcome, kept for the JSON. */
type Rounds = Partial<Record<Scenario, Partial<Record<TargetName, Outcome[]>>>>

async function runAll(): Promise<{ results: Results; rounds: Rounds }> {
  const results: Results = { fanout: {}, changes: {}, ingest: {}, idle: {}, upload: {}, history: {}, search: {}, startup: {} }
  const rounds: Rounds = {}
  const ready = new Map<TargetName, string | undefined>()
  for (const target of targets) {
    // Built before any clock starts; a target that cannot build is reported, not fatal.
    await target.executable().then(() => ready.set(target.name, undefined), (error: Error) => ready.set(target.name, error.message))
  }
  const run = (label: string, target: Target, work: () => Promise<Outcome>) => {
    const broken = ready.get(target.name)
    return attempt(`${label} · ${target.name}`, broken ? async () => ({ error: broken }) : work)
  }

  for (const scenario of ROUNDED_SCENARIOS.filter(selected)) {
    const outcomes: Partial<Record<TargetName, Outcome[]>> = (rounds[scenario] = {})
    for (let round = 1; round <= plan.rounds; round++) {
      const label = plan.rounds > 1 ? `${scenario} (round ${round} of ${plan.rounds})` : scenario
      for (const target of targets.filter(t => t.runs(scenario))) {
        ;(outcomes[target.name] ??= []).push(await run(label, target, () => measureOnNew(target, scenario, `${scenario}-${target.name}-${round}`)))
      }
    }
    for (const target of targets.filter(t => t.runs(scenario))) results[scenario][target.name] = bestRound(scenario, outcomes[target.name]!)
  }
  relateChangesToFanout(results)
  for (const target of targets) {
    let seeding: Promise<BenchDatabase> | undefined
    // Seeded once, for whichever of history, search and startup runs first.
    const seeded = () =>
      (seeding ??= (async () => {
        const database = await createDatabase(target.store, workDir, `history-${target.name}`)
        const started = performance.now()
        await target.seedHistory(database.location, plan.history)
        log(`  seeded ${plan.history.messages.toLocaleString('en-US')} messages in ${((performance.now() - started) / 1000).toFixed(1)} s`)
        return database
      })())
    try {
      if (selected('history') && target.runs('history')) {
        results.history[target.name] = await run('history', target, () => seeded().then(database => measure(target, 'history', database)))
      }
      if (selected('search') && target.runs('search')) {
        results.search[target.name] = await run('search', target, () => seeded().then(database => measure(target, 'search', database)))
      }
      if (selected('startup') && target.runs('startup')) {
        results.startup[target.name] = await run('startup', target, () => seeded().then(database => startup(target, plan.startup, workDir, database)))
      }
    } finally {
      await seeding?.then(database => database.drop(), () => {})
    }
  }
  return { results, rounds }
}

/** A change's delivery cost against a new message's, both measured in this run. */
function relateChangesToFanout(results: Results) {
  const changes = results.changes.ours
  const fanout = results.fanout.ours
  if (!changes || 'error' in changes || !fanout || 'error' in fanout) return
  changes.cpuPerDeliveryVsFanout = changes.cpuPerDeliveryUs! / fanout.cpuPerDeliveryUs!
}

const loadAverage = () => readFileSync('/proc/loadavg', 'utf8').split(' ')[0]
const loadAtStart = loadAverage()

/** The machine and how busy it was: other work on these cores moves every wall-clock figure. */
async function machine(): Promise<string> {
  const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m)?.[1] ?? 'unknown CPU'
  const commit = Bun.spawnSync(['git', 'rev-parse', '--short', 'HEAD'], { stderr: 'ignore' }).stdout.toString().trim()
  return [
    `${cpu}, ${availableParallelism()} cores; Bun ${Bun.version}; commit ${commit || 'unknown'}; ${PINNING};`,
    ...(withPostgres ? [`${await postgresVersion()};`] : []),
    `1-minute load average ${loadAtStart} at the start, ${loadAverage()} at the end`,
  ].join(' ')
}

pinSelfToLoadCore()
const workDir = mkdtempSync(join(tmpdir(), 'chat-bench-'))
let interrupted = false
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    interrupted = true
    killAll()
    // The servers are gone, so their databases drop at once.
    void dropAll().finally(() => {
      rmSync(workDir, { recursive: true, force: true })
      process.exit(130)
    })
  })
}

let results: Results
let rounds: Rounds
try {
  ;({ results, rounds } = await runAll())
} finally {
  killAll()
  await dropAll()
  rmSync(workDir, { recursive: true, force: true })
}
// Scenarios cut short by the signal failed: an interrupted run reports nothing, and the handler exits.
if (interrupted) await new Promise(() => {})

const date = new Date().toISOString()
const about = await machine()
const failed = failures(results)
const markdown = [
  `# Benchmark ${quick ? '(quick)' : '(full)'}, ${date}`,
  '',
  about,
  '',
  ...SCENARIOS.filter(selected).map(scenario => `- ${describePlan(plan)[scenario]}`),
  `- ${describePlan(plan).rounds}`,
  ...(withPostgres ? [`- ${describePlan(plan).postgres}`] : []),
  '',
  table(results),
  '',
  ...(withPostgres ? ['PostgreSQL against SQLite (ours on each store, same sizes, same run):', '', storeTable(results), ''] : []),
  failed.length ? ['Failed:', ...failed.map(line => `- ${line}`)].join('\n') : 'No missing or duplicate deliveries.',
  '',
].join('\n')
console.log(`\n${markdown}`)

const resultsDir = join(import.meta.dir, 'results')
const stamp = date.replace(/[:.]/g, '-')
mkdirSync(resultsDir, { recursive: true })
writeFileSync(join(resultsDir, `${stamp}.md`), markdown)
writeFileSync(join(resultsDir, `${stamp}.json`), JSON.stringify({ date, quick, machine: about, stores: withPostgres ? ['sqlite', 'postgres'] : ['sqlite'], plan, results, rounds, failed }, null, 2))
console.log(`written to bench/results/${stamp}.md and .json`)
process.exit(failed.length ? 1 : 0)
