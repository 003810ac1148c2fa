/**
 * Soak: minutes of users opening, closing and resuming streams, posting and reading history
 * against the compiled binary, then checking that delivery stayed exactly-once and in order and
 * that the server's memory and file descriptors stayed flat. Not part of `bun test`.
 *
 *   bun scripts/soak.ts [--minutes 10] [--users 200] [--binary dist/chat-server]
 *   bun scripts/soak.ts --url http://127.0.0.1:3000 [--pid <server pid>] [--minutes 1]
 *
 * Without --url it runs `bun run build` (unless --binary names a binary), and starts the binary
 * from a temp folder with a temp database on a free loopback port (soak/server.ts); it stops
 * that server however the soak ends. The load is in soak/load.ts, the delivery check in
 * soak/check.ts. The server's VmRSS and open fds are sampled every SAMPLE_MS; the figures of
 * the last minute of the load may exceed those of minute 1 by at most 10%, each figure the
 * floor of its minute (growthFigures says why; judged for runs of 3 minutes or more).
 *
 * Prints a summary; exit 0 when all holds, 1 (with every reason) when not, 2 on bad usage.
 */
import { resolve } from 'node:path'
import { checkDeliveries, Problems } from './soak/check'
import { createLoad } from './soak/load'
import { build, growthFigures, sample, startBinary, type Floor, type Sample, type Server } from './soak/server'

const SAMPLE_MS = 5_000
const GROWTH_ALLOWED = 0.1

interface Options {
  minutes: number
  users: number
  url?: string
  pid?: number
  binary?: string
}

function usage(message: string): never {
  console.error(`soak: ${message}\nusage: bun scripts/soak.ts [--minutes N] [--users N] [--binary PATH | --url http://127.0.0.1:PORT [--pid PID]]`)
  process.exit(2)
}

function parseOptions(argv: string[]): Options {
  const options: Options = { minutes: 10, users: 200 }
  for (let i = 0; i < argv.length; i++) {
    const [name, inline] = argv[i]!.split('=', 2) as [string, string | undefined]
    const value = inline ?? argv[++i]
    if (value === undefined) usage(`${name} needs a value`)
    if (name === '--minutes') options.minutes = Number(value)
    else if (name === '--users') options.users = Number(value)
    else if (name === '--pid') options.pid = Number(value)
    else if (name === '--url') options.url = value
    else if (name === '--binary') options.binary = value
    else usage(`unknown option ${name}`)
  }
  if (!(options.minutes > 0 && options.minutes <= 120)) usage('--minutes must be more than 0 and at most 120')
  if (!(Number.isInteger(options.users) && options.users >= 2 && options.users <= 2000)) usage('--users must be an integer 2-2000')
  if (options.pid !== undefined && !(Number.isInteger(options.pid) && options.pid > 0)) usage('--pid must be a process id')
  if (options.url !== undefined) {
    const host = new URL(options.url).hostname
    // The raw-socket stream reader dials 127.0.0.1; a soak is never aimed at another machine.
    if (host !== '127.0.0.1' && host !== 'localhost') usage('--url must be a loopback address (127.0.0.1)')
  }
  return options
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2))
  let server: Server
  if (options.url) {
    const url = new URL(options.url)
    server = { base: `http://127.0.0.1:${url.port || 80}`, port: Number(url.port || 80), pid: options.pid, exited: () => null, stop: async () => {} }
  } else {
    server = await startBinary(options.binary ? resolve(options.binary) : build())
  }
  const stopOnSignal = () => void server.stop().then(() => process.exit(130))
  process.on('SIGINT', stopOnSignal)
  process.on('SIGTERM', stopOnSignal)

  const problems = new Problems()
  let growthJudged = false
  try {
    console.log(`soak: ${options.users} users for ${options.minutes} min against ${server.base}${server.pid ? ` (pid ${server.pid})` : ''}`)
    const load = createLoad({ base: server.base, port: server.port, problems })
    const users = await load.setUp(options.users)
    console.log(`soak: ${users.length} users in ${load.rooms} rooms; load starts`)

    const loadMs = options.minutes * 60_000
    const started = performance.now()
    const samples: Sample[] = []
    const takeSample = () => {
      if (server.pid !== undefined) samples.push(sample(server.pid, performance.now() - started))
      const exited = server.exited()
      if (exited !== null) problems.add('server exited', `exit code ${exited}`)
    }
    takeSample()
    const sampler = setInterval(takeSample, SAMPLE_MS)
    const progress = setInterval(() => {
      const s = samples.at(-1)
      const { posted, deliveries, streamsOpened } = load.stats
      console.log(`soak: ${((performance.now() - started) / 60_000).toFixed(1)} min, ${posted} posted, ${deliveries} deliveries, ${streamsOpened} streams opened${s ? `, RSS ${(s.rssKiB / 1024).toFixed(1)} MiB, ${s.fds} fds` : ''}`)
    }, 60_000)
    const end = Bun.sleep(loadMs).then(() => {
      clearInterval(sampler)
      clearInterval(progress)
      takeSample() // the end figure, still under load, before the streams drain and close
    })
    const requestsBefore = load.stats.requests
    await load.run(users, end)
    const elapsedS = (performance.now() - started) / 1000
    const loadRequests = load.stats.requests - requestsBefore

    checkDeliveries(load.streams, load.postsById, await load.readAllHistory(users), problems)

    const growth = growthFigures(samples, loadMs)
    const { minute1, lastMinute } = growth
    growthJudged = growth.judged
    if (growth.judged && minute1 && lastMinute) {
      if (lastMinute.rssKiB > minute1.rssKiB * (1 + GROWTH_ALLOWED)) problems.add('RSS grew more than 10%', `lowest ${minute1.rssKiB} KiB in minute 1 -> lowest ${lastMinute.rssKiB} KiB in the last minute`)
      if (lastMinute.fds > minute1.fds * (1 + GROWTH_ALLOWED)) problems.add('open fds grew more than 10%', `fewest ${minute1.fds} in minute 1 -> fewest ${lastMinute.fds} in the last minute`)
    }

    const { stats } = load
    const latencies = load.liveLatencies.sort((a, b) => a - b)
    const mib = (kib: number) => (kib / 1024).toFixed(1)
    const figure = (f: Floor | undefined) => (f ? `${mib(f.rssKiB)} MiB RSS, ${f.fds} fds (the lowest of ${f.samples} samples)` : server.pid === undefined ? 'not sampled (give --pid with --url)' : 'no samples')
    const span = samples.length
      ? `${mib(Math.min(...samples.map((s) => s.rssKiB)))}-${mib(Math.max(...samples.map((s) => s.rssKiB)))} MiB RSS, ${Math.min(...samples.map((s) => s.fds))}-${Math.max(...samples.map((s) => s.fds))} fds (${samples.length} samples)`
      : 'no samples'
    console.log(
      [
        '',
        `soak summary (${options.users} users, ${elapsedS.toFixed(0)} s of load incl. the final drain)`,
        `  messages posted (201)     ${stats.posted} (+ ${stats.repeats} idempotent repeats, ${stats.historyReads} history reads)`,
        `  deliveries                ${stats.deliveries}`,
        `  streams opened            ${stats.streamsOpened} (${load.streams.length} logical streams, ${stats.resumes} resumes, ${stats.serverCloses} ended by the server)`,
        `  requests/s                ${(loadRequests / elapsedS).toFixed(1)} (posts, history reads and stream opens)`,
        `  delivery latency          p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms (post sent -> event read, ${latencies.length} live deliveries)`,
        `  server in minute 1        ${figure(minute1)}`,
        `  server in the last minute ${figure(lastMinute)}`,
        `  RSS floor by minute       ${growth.perMinute.map((f) => (f ? mib(f.rssKiB) : '-')).join(' ')} MiB`,
        `  every sample              ${span}`,
        ...(growth.judged || server.pid === undefined ? [] : ['  growth                    not judged: runs under 3 minutes have no minute 1 apart from their last']),
      ].join('\n'),
    )
  } finally {
    await server.stop()
  }

  if (problems.size === 0) {
    console.log(`soak: PASS (every stream saw each message of its rooms exactly once, in order; ${growthJudged ? 'RSS and fds within 10%' : 'growth not judged'})`)
    return 0
  }
  console.log(['soak: FAIL', ...problems.lines()].join('\n'))
  return 1
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`soak: ${(error as Error).message}`)
    process.exit(1)
  },
)
