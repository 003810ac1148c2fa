/**
 * The long fuzz run (issue 9), not part of `bun test`: rounds of requests generated from the
 * OpenAPI document, each round in a fresh world (see test/support/fuzz-world.ts), until a count
 * or a duration is reached. The seed is random unless given, and printed first, so a failing
 * run can be run again exactly.
 *
 *   bun scripts/fuzz.ts [--seed N] [--count N] [--duration SECONDS] [--concurrency N]
 *                       [--url URL | --bin PATH] [--known-bugs] [--replay FILE]
 *
 * Without --url it starts the compiled binary (--bin, default dist/chat-server) on a free port
 * with a temp database, and stops it at the end. --replay sends the requests of a failures file
 * (as test/fuzz.test.ts writes one) again and judges the replies. Exit code 1 on any failure.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import type { FuzzFailure } from '../test/support/fuzz-send'

const { values: args } = parseArgs({
  options: {
    seed: { type: 'string' },
    count: { type: 'string', default: '20000' },
    duration: { type: 'string' },
    concurrency: { type: 'string', default: '6' },
    url: { type: 'string' },
    bin: { type: 'string', default: 'dist/chat-server' },
    'known-bugs': { type: 'boolean', default: false },
    replay: { type: 'string' },
  },
})

const ROUND = 3000
const seed = args.seed !== undefined ? Number(args.seed) : Math.floor(Math.random() * 2 ** 31)
const count = Number(args.count)
const deadline = args.duration !== undefined ? Date.now() + Number(args.duration) * 1000 : Infinity
const concurrency = Number(args.concurrency)
if (![seed, count, concurrency].every(Number.isInteger) || Number.isNaN(deadline)) {
  console.error('--seed, --count, --concurrency take integers; --duration takes seconds')
  process.exit(2)
}
if (!args.url) {
  const binary = resolve(args.bin!)
  if (!existsSync(binary)) {
    console.error(`fuzz: no binary at ${binary}; build it (bun run build), or give --url`)
    process.exit(2)
  }
  // server-process.ts reads CHAT_SERVER_BIN when it loads, so it is set before anything that
  // imports it is loaded (the imports below are dynamic for that reason).
  process.env.CHAT_SERVER_BIN = binary
}
const { fuzzRound } = await import('../test/support/fuzz-world')
const { describeRequest, runRequests } = await import('../test/support/fuzz-send')
const { KNOWN_BUG_CASES } = await import('../test/support/openapi-fuzz')
const { fetchOperations } = await import('../test/support/openapi-operations')
const { spawnServer, SERVER_BINARY } = await import('../test/support/server-process')
if (args['known-bugs']) for (const key of Object.keys(KNOWN_BUG_CASES) as (keyof typeof KNOWN_BUG_CASES)[]) KNOWN_BUG_CASES[key] = true

async function target(): Promise<{ url: string; stop(): Promise<unknown> }> {
  if (args.url) return { url: args.url.replace(/\/$/, ''), stop: async () => {} }
  if (!SERVER_BINARY) throw new Error('server-process.ts did not pick up CHAT_SERVER_BIN')
  return spawnServer({ env: { RATE_LIMIT_MESSAGES_PER_MINUTE: '0', LOG_LEVEL: 'error' } })
}

const server = await target()
const failures: FuzzFailure[] = []
let sent = 0
try {
  if (args.replay) {
    const saved = JSON.parse(readFileSync(args.replay, 'utf8')) as FuzzFailure[]
    const run = await runRequests(server.url, saved.map((f) => f.request), { concurrency: 1 })
    sent = run.sent
    failures.push(...run.failures)
  } else {
    console.log(`fuzz: seed ${seed}, up to ${count} requests${Number.isFinite(deadline) ? ` or ${args.duration} s` : ''}, against ${args.url ?? SERVER_BINARY} at ${server.url}`)
    const operations = await fetchOperations(server.url)
    for (let round = 0; sent < count && Date.now() < deadline; round++) {
      const result = await fuzzRound(server.url, operations, seed + round, Math.min(ROUND, count - sent), concurrency)
      sent += result.run.sent
      failures.push(...result.run.failures, ...result.witness.map((problem) => ({ request: { operation: 'witness rooms', variant: [], method: '', path: '', headers: {} }, problem })))
      console.log(`round ${round}: ${result.run.sent} requests in ${result.seconds.toFixed(1)} s, ${result.run.failures.length + result.witness.length} failures; statuses ${JSON.stringify(Object.fromEntries(result.run.statuses))}`)
    }
  }
  const health = await fetch(`${server.url}/healthz`).then((r) => r.status, (e) => String(e))
  if (health !== 200) failures.push({ request: { operation: 'GET /healthz', variant: [], method: 'GET', path: '/healthz', headers: {} }, problem: `the server no longer serves: ${health}` })
} finally {
  await server.stop()
}

console.log(`${sent} requests, ${failures.length} failures`)
if (failures.length > 0) {
  const file = join(tmpdir(), `fuzz-failures-${seed}.json`)
  writeFileSync(file, JSON.stringify(failures, null, 1))
  for (const f of failures.slice(0, 30)) console.log(`${f.problem}\n  ${describeRequest(f.request)}`)
  console.log(`all ${failures.length} in ${file} (send them again: bun scripts/fuzz.ts --replay ${file} --url URL)`)
  process.exit(1)
}
