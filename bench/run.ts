/**
 * `bun run bench [--quick] [--target ours|floor] [--scenario <name>]...`: every scenario (or
 * the named ones) against our compiled server and against the floor (bench/floor.ts), each on
 * a fresh server process and database, the load from separate processes on the other core.
 * Prints the table, writes it to bench/results/<time>.md and .json, and exits non-zero when a
 * delivery went missing or came twice, a post failed, a stream was dropped or a scenario could
 * not run. Timings are never asserted: the targets are printed beside them.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { runLoad } from './load-runner'
import type { LoadScenario } from './load/job'
import { FULL, QUICK, SCENARIOS, type Plan, type Scenario } from './plan'
import { PINNING, killAll, pinSelfToLoadCore } from './processes'
import { describePlan, failures, table, type Outcome, type Results } from './report'
import { bestRound } from './rounds'
import { startServer } from './server'
import { startup } from './startup'
import { TARGETS } from './targets'
import type { Target, TargetName } from './targets/target'

const args = process.argv.slice(2)
const quick = args.includes('--quick')
const only = args.includes('--target') ? (args[args.indexOf('--target') + 1] as TargetName) : undefined
if (only && !(only in TARGETS)) throw new Error(`--target must be one of: ${Object.keys(TARGETS).join(', ')}`)
const plan: Plan = quick ? QUICK : FULL
const named = args.flatMap((arg, i) => (arg === '--scenario' ? [args[i + 1] as Scenario] : []))
for (const name of named) if (!SCENARIOS.includes(name)) throw new Error(`--scenario must be one of: ${SCENARIOS.join(', ')}`)
const selected = (scenario: Scenario) => named.length === 0 || named.includes(scenario)
const targets: Target[] = only ? [TARGETS[only]] : [TARGETS.ours, TARGETS.floor]
/** Bounds each load generator; a hung one is killed and its scenario reported as an error. */
const LOAD_TIMEOUT_MS = quick ? 30_000 : 120_000
/** Each on its own new database, in rounds; history and startup share the seeded one. */
const ROUNDED_SCENARIOS = ['fanout', 'changes', 'ingest', 'idle', 'upload'] as const

const log = (message: string) => console.error(message)

async function attempt(label: string, work: () => Promise<Outcome>): Promise<Outcome> {
  log(label)
  try {
    return await work()
  } catch (error) {
    log(`  failed: ${(error as Error).message}`)
    return { error: (error as Error).message }
  }
}

/** A fresh server on `databasePath`, one load generator against it, the server stopped. */
async function measure(target: Target, scenario: LoadScenario, databasePath: string): Promise<Outcome> {
  const server = await startServer(target, databasePath)
  try {
    const job = { scenario, target: target.name, port: server.port, pid: server.pid, databasePath, params: plan[scenario] }
    return await runLoad(job, LOAD_TIMEOUT_MS)
  } finally {
    await server.stop()
  }
}

/** Every round's outcome, kept for the JSON. */
type Rounds = Partial<Record<Scenario, Partial<Record<TargetName, Outcome[]>>>>

async function runAll(workDir: string): Promise<{ results: Results; rounds: Rounds }> {
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
        const databasePath = join(workDir, `${scenario}-${target.name}-${round}.db`)
        ;(outcomes[target.name] ??= []).push(await run(label, target, () => measure(target, scenario, databasePath)))
      }
    }
    for (const target of targets.filter(t => t.runs(scenario))) results[scenario][target.name] = bestRound(scenario, outcomes[target.name]!)
  }
  relateChangesToFanout(results)
  for (const target of targets) {
    const databasePath = join(workDir, `history-${target.name}.db`)
    let seeding: Promise<void> | undefined
    // Seeded once, for whichever of history and startup runs first.
    const seeded = () =>
      (seeding ??= (async () => {
        const started = performance.now()
        target.seedHistory(databasePath, plan.history)
        log(`  seeded ${plan.history.messages.toLocaleString('en-US')} messages in ${((performance.now() - started) / 1000).toFixed(1)} s`)
      })())
    if (selected('history')) {
      results.history[target.name] = await run('history', target, () => seeded().then(() => measure(target, 'history', databasePath)))
    }
    if (selected('search') && target.runs('search')) {
      results.search[target.name] = await run('search', target, () => seeded().then(() => measure(target, 'search', databasePath)))
    }
    if (selected('startup')) {
      results.startup[target.name] = await run('startup', target, () => seeded().then(() => startup(target, plan.startup, workDir, databasePath)))
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
function machine(): string {
  const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.+)$/m)?.[1] ?? 'unknown CPU'
  const commit = Bun.spawnSync(['git', 'rev-parse', '--short', 'HEAD'], { stderr: 'ignore' }).stdout.toString().trim()
  return [
    `${cpu}, ${availableParallelism()} cores; Bun ${Bun.version}; commit ${commit || 'unknown'}; ${PINNING};`,
    `1-minute load average ${loadAtStart} at the start, ${loadAverage()} at the end`,
  ].join(' ')
}

pinSelfToLoadCore()
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    killAll()
    process.exit(130)
  })
}

const workDir = mkdtempSync(join(tmpdir(), 'chat-bench-'))
let results: Results
let rounds: Rounds
try {
  ;({ results, rounds } = await runAll(workDir))
} finally {
  killAll()
  rmSync(workDir, { recursive: true, force: true })
}

const date = new Date().toISOString()
const about = machine()
const failed = failures(results)
const markdown = [
  `# Benchmark ${quick ? '(quick)' : '(full)'}, ${date}`,
  '',
  about,
  '',
  ...SCENARIOS.filter(selected).map(scenario => `- ${describePlan(plan)[scenario]}`),
  `- ${describePlan(plan).rounds}`,
  '',
  table(results),
  '',
  failed.length ? ['Failed:', ...failed.map(line => `- ${line}`)].join('\n') : 'No missing or duplicate deliveries.',
  '',
].join('\n')
console.log(`\n${markdown}`)

const resultsDir = join(import.meta.dir, 'results')
const stamp = date.replace(/[:.]/g, '-')
mkdirSync(resultsDir, { recursive: true })
writeFileSync(join(resultsDir, `${stamp}.md`), markdown)
writeFileSync(join(resultsDir, `${stamp}.json`), JSON.stringify({ date, quick, machine: about, plan, results, rounds, failed }, null, 2))
console.log(`written to bench/results/${stamp}.md and .json`)
process.exit(failed.length ? 1 : 0)
