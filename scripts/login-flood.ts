/**
 * Does a flood of sign-ins stall message delivery? For each target, a subscriber streams a
 * room while messages are posted at a steady rate; the delivery latency (post sent -> its SSE
 * event read) is measured for a quiet phase, then for a phase with a flood of wrong-password
 * logins running beside it, and p50 / p99 / max of both are printed, with what the flood got.
 *
 * A target is a compiled binary (started here on a free port with a temp database and the
 * per-address auth limit off, so the flood reaches the password hasher) or the URL of a running
 * server (then start it with RATE_LIMIT_AUTH_PER_MINUTE=0, or TRUST_PROXY=true: every flood
 * request carries its own X-Forwarded-For). The flood sends unknown usernames, so the
 * per-account throttle never answers for the hasher: each attempt costs one argon2 verify
 * (against the decoy hash), as a wrong password for an existing account does.
 *
 * To compare with the hash gate off, build the commit before it too and pass both binaries:
 *   git archive <commit> | tar -x -C /tmp/before && ln -s "$PWD/node_modules" /tmp/before/
 *   (cd /tmp/before && bun run build)
 *   bun scripts/login-flood.ts dist/chat-server /tmp/before/dist/chat-server
 *
 * Usage: bun scripts/login-flood.ts [binary-or-url ...] [--concurrency 200] [--seconds 10] [--rate 50] [--rounds 1]
 *        [--server-env NAME=VALUE ...]   (e.g. RATE_LIMIT_AUTH_PER_MINUTE=60: the flood meets the limit)
 * The flood runs in a child process, so its own work does not delay the measuring side's reads.
 */
import { mkdtempSync, readFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const args = process.argv.slice(2)
/** `--server-env NAME=VALUE` (repeatable): settings for the binaries started here. */
const serverEnv: Record<string, string> = {}
for (let at = args.indexOf('--server-env'); at >= 0; at = args.indexOf('--server-env')) {
  const [name, ...value] = (args.splice(at, 2)[1] ?? '').split('=')
  if (!name || value.length === 0) throw new Error('--server-env needs NAME=VALUE')
  serverEnv[name] = value.join('=')
}
const option = (name: string, fallback: number) => {
  const at = args.indexOf(`--${name}`)
  if (at < 0) return fallback
  const value = Number(args.splice(at, 2)[1])
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} needs a positive number`)
  return value
}

async function main() {
  const concurrency = option('concurrency', 200)
  const seconds = option('seconds', 10)
  const rate = option('rate', 50)
  const rounds = option('rounds', 1)
  const targets = args.length > 0 ? args : ['dist/chat-server']
  console.log(`delivery latency, post -> SSE event, ${rate} posts/s for ${seconds} s a phase; load average now: ${loadavg()[0]!.toFixed(2)}`)
  console.log(['target'.padEnd(40), 'phase'.padEnd(11), 'p50 ms'.padStart(8), 'p99 ms'.padStart(8), 'max ms'.padStart(8), 'n'.padStart(5), 'srv cpu%'.padStart(9), '  flood answers'].join(' '))
  const byPhase = new Map<string, { p50: number[]; p99: number[] }>()
  const report = (target: string, phase: string, samples: number[], serverCpu: string, flood: string) => {
    const sorted = [...samples].sort((a, b) => a - b)
    const [p50, p99] = [percentile(sorted, 50), percentile(sorted, 99)]
    const key = `${target.padEnd(40)} ${phase.padEnd(11)}`
    const seen = byPhase.get(key) ?? { p50: [], p99: [] }
    seen.p50.push(p50)
    seen.p99.push(p99)
    byPhase.set(key, seen)
    console.log([key, ms(p50), ms(p99), ms(sorted.at(-1)!), String(sorted.length).padStart(5), serverCpu.padStart(9), ` ${flood}`].join(' '))
  }
  // Targets take turns round by round, so a neighbour's load on a shared machine falls on all.
  for (const target of Array.from({ length: rounds }, () => targets).flat()) {
    const server = /^https?:\/\//.test(target) ? { url: target, pid: undefined, stop: async () => {} } : await startBinary(resolve(target))
    try {
      const probe = await openProbe(server.url)
      try {
        const quietCpu = cpuClock(server.pid)
        const quiet = await measure(probe, seconds, rate)
        report(target, 'quiet', quiet, quietCpu(), '')
        const child = Bun.spawn([process.execPath, import.meta.path, '--flood', server.url, String(concurrency), String(seconds * 1000)], { stdout: 'pipe', stderr: 'inherit' })
        // Let the flood reach full strength before measuring beside it.
        await Bun.sleep(1000)
        const floodCpu = cpuClock(server.pid)
        const floodClientCpu = cpuClock(child.pid)
        const loaded = await measure(probe, seconds, rate)
        const serverCpu = floodCpu()
        const clientCpu = floodClientCpu()
        const answers = JSON.parse(await new Response(child.stdout).text()) as Record<string, number>
        await child.exited
        report(target, `flood x${concurrency}`, loaded, serverCpu, `${describeFlood(answers, seconds + 2)} (flood client cpu ${clientCpu}%)`)
      } finally {
        probe.close()
      }
    } finally {
      await server.stop()
    }
  }
  if (rounds === 1) return
  console.log(`\nmedian of ${rounds} rounds`)
  for (const [key, seen] of byPhase) console.log(`${key} ${ms(median(seen.p50))} ${ms(median(seen.p99))}`)
}

const ms = (v: number) => v.toFixed(1).padStart(8)
const median = (values: number[]) => percentile([...values].sort((a, b) => a - b), 50)

/** CPU time a process spent from now until the returned function is called, in % of one core. */
function cpuClock(pid: number | undefined): () => string {
  if (pid === undefined) return () => '-'
  const ticks = () => {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
    return Number(fields[11]) + Number(fields[12])
  }
  const startTicks = ticks()
  const start = performance.now()
  // Linux counts in USER_HZ, 100 a second.
  return () => ((((ticks() - startTicks) / 100) * 1000 * 100) / (performance.now() - start)).toFixed(0)
}

interface Probe {
  /** Posts one message and resolves with the ms until the stream delivered it. */
  send(): Promise<number>
  close(): void
}

async function openProbe(url: string): Promise<Probe> {
  const json = async (path: string, body: unknown, token?: string) => {
    const res = await fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) })
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`)
    return res.json() as Promise<any>
  }
  const name = `probe_${Date.now().toString(36)}`
  const { token } = await json('/api/auth/register', { username: name, password: 'probe-password' })
  const room = await json('/api/chat/rooms', { name: 'latency probe' }, token)
  const abort = new AbortController()
  const stream = await fetch(`${url}/api/chat/rooms/${room.id}/subscribe`, { headers: { authorization: `Bearer ${token}` }, signal: abort.signal })
  if (stream.status !== 200) throw new Error(`subscribe: ${stream.status}`)

  const waiting = new Map<string, () => void>()
  void (async () => {
    const decoder = new TextDecoder()
    let buffer = ''
    try {
      for await (const chunk of stream.body!) {
        buffer += decoder.decode(chunk, { stream: true })
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const data = /^data: (.*)$/m.exec(buffer.slice(0, end))?.[1]
          buffer = buffer.slice(end + 2)
          if (data) waiting.get(JSON.parse(data).content)?.()
        }
      }
    } catch {
      // closed by close()
    }
  })()

  let seq = 0
  return {
    async send() {
      const content = `probe ${++seq}`
      const started = performance.now()
      const delivered = new Promise<void>((done) => waiting.set(content, done))
      await json(`/api/chat/rooms/${room.id}/messages`, { content }, token)
      await delivered
      waiting.delete(content)
      return performance.now() - started
    },
    close: () => abort.abort(),
  }
}

/** Sends `rate` probes a second, on schedule whatever the previous ones are doing. */
async function measure(probe: Probe, seconds: number, rate: number): Promise<number[]> {
  const pending: Promise<number>[] = []
  const start = performance.now()
  for (let i = 0; i < seconds * rate; i++) {
    const due = start + (i * 1000) / rate
    const wait = due - performance.now()
    if (wait > 0) await Bun.sleep(wait)
    pending.push(probe.send())
  }
  return Promise.all(pending)
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!

function describeFlood(report: Record<string, number>, seconds: number) {
  return Object.entries(report)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([status, count]) => `${status}: ${(count / seconds).toFixed(0)}/s`)
    .join(', ')
}

/** The child: `concurrency` clients, each signing in with a wrong password again as soon as answered. */
async function flood(url: string, concurrency: number, ms: number) {
  const until = performance.now() + ms + 2000
  const counts: Record<string, number> = {}
  let n = 0
  const client = async (id: number) => {
    while (performance.now() < until) {
      const i = n++
      // A distinct address per attempt, for a server that trusts X-Forwarded-For.
      const address = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`
      const status = await fetch(`${url}/api/auth/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-forwarded-for': address },
        body: JSON.stringify({ username: `nobody_${id}_${i}`, password: 'wrong password' }),
      })
        .then(async (res) => (await res.arrayBuffer(), String(res.status)))
        .catch(() => 'error')
      counts[status] = (counts[status] ?? 0) + 1
    }
  }
  await Promise.all(Array.from({ length: concurrency }, (_, id) => client(id)))
  console.log(JSON.stringify(counts))
}

async function startBinary(binary: string) {
  const dir = mkdtempSync(join(tmpdir(), 'chat-flood-'))
  const proc = Bun.spawn([binary], {
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', DATABASE_PATH: join(dir, 'chat.db'), LOG_LEVEL: 'error', RATE_LIMIT_AUTH_PER_MINUTE: '0', RATE_LIMIT_MESSAGES_PER_MINUTE: '0', ...serverEnv },
    stdout: 'pipe',
    stderr: 'inherit',
  })
  const reader = proc.stdout.getReader()
  let banner = ''
  while (!/listening on http:\/\/[^:]+:(\d+)/.test(banner)) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`${binary} exited before listening: ${banner}`)
    banner += new TextDecoder().decode(value)
  }
  reader.releaseLock()
  void proc.stdout.pipeTo(new WritableStream())
  return {
    url: `http://127.0.0.1:${/listening on http:\/\/[^:]+:(\d+)/.exec(banner)![1]}`,
    pid: proc.pid as number | undefined,
    async stop() {
      proc.kill('SIGTERM')
      await proc.exited
    },
  }
}

if (args[0] === '--flood') await flood(args[1]!, Number(args[2]), Number(args[3]))
else await main()
