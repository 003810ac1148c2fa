/** The server a soak runs against: the compiled binary started in a temp folder, and its /proc figures. */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface Server {
  base: string
  port: number
  /** Known when this soak started the server, or was told it (--pid): what /proc is read for. */
  pid: number | undefined
  /** The exit code once the server has exited, else null. */
  exited(): number | null
  stop(): Promise<void>
}

/** Settings for the load: the limits are lifted, or set where only a leak would reach them. */
const SERVER_ENV = {
  HOST: '127.0.0.1',
  PORT: '0',
  LOG_LEVEL: 'warn',
  RATE_LIMIT_AUTH_PER_MINUTE: '0',
  RATE_LIMIT_MESSAGES_PER_MINUTE: '0',
  // Each user holds two streams at once; a server that forgot closed ones would refuse a 429.
  MAX_STREAMS_PER_USER: '10',
}

const STOP_GRACE_MS = 10_000
const START_TIMEOUT_MS = 30_000

/** `bun run build` in the repository; the binary's path. */
export function build(): string {
  const root = join(import.meta.dir, '..', '..')
  const result = Bun.spawnSync(['bun', 'run', 'build'], { cwd: root, stdout: 'ignore', stderr: 'pipe' })
  if (result.exitCode !== 0) throw new Error(`bun run build failed: ${result.stderr.toString().trim()}`)
  return join(root, 'dist', 'chat-server')
}

/**
 * Copies the binary to a temp folder (a rebuild during the soak cannot touch the running file)
 * and starts it there with a temp database on a free loopback port. stop() sends SIGTERM,
 * then SIGKILL after the grace time, and removes the folder.
 */
export async function startBinary(binary: string): Promise<Server> {
  const folder = mkdtempSync(join(tmpdir(), 'chat-soak-'))
  const executable = join(folder, 'chat-server')
  copyFileSync(binary, executable)
  const proc = Bun.spawn([executable], {
    cwd: folder,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: folder, DATABASE_PATH: join(folder, 'chat.db'), ...SERVER_ENV },
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'inherit',
  })
  let code: number | null = null
  void proc.exited.then((c) => (code = c))
  const stop = async () => {
    if (code === null) {
      proc.kill('SIGTERM')
      const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS)
      await proc.exited
      clearTimeout(timer)
    }
    rmSync(folder, { recursive: true, force: true })
  }
  let timer: Timer | undefined
  try {
    const timeout = new Promise<never>((_, fail) => {
      timer = setTimeout(() => fail(new Error(`the server printed no start-up line within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS)
    })
    const port = await Promise.race([readPort(proc.stdout), timeout])
    return { base: `http://127.0.0.1:${port}`, port, pid: proc.pid, exited: () => code, stop }
  } catch (error) {
    await stop()
    throw error
  } finally {
    clearTimeout(timer)
  }
}

/** Reads stdout up to the "listening on" line, then keeps draining it so the pipe never fills. */
async function readPort(stdout: ReadableStream<Uint8Array>): Promise<number> {
  const reader = stdout.getReader()
  const decoder = new TextDecoder()
  let banner = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`the server exited before listening: ${banner.trim()}`)
    banner += decoder.decode(value)
    const match = /listening on http:\/\/[^:]+:(\d+)/.exec(banner)
    if (match) {
      void (async () => {
        while (!(await reader.read()).done);
      })()
      return Number(match[1])
    }
  }
}

export interface Sample {
  /** Since the load started. */
  atMs: number
  rssKiB: number
  fds: number
}

/** The process's resident set (VmRSS) and its count of open file descriptors, now. */
export function sample(pid: number, atMs: number): Sample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const rssKiB = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1])
  return { atMs, rssKiB, fds: readdirSync(`/proc/${pid}/fd`).length }
}

/** The lowest RSS and fd count sampled in [fromMs, toMs), or undefined when none was. */
export interface Floor {
  rssKiB: number
  fds: number
  samples: number
}

function floor(samples: Sample[], fromMs: number, toMs: number): Floor | undefined {
  const within = samples.filter((s) => s.atMs >= fromMs && s.atMs < toMs)
  if (within.length === 0) return undefined
  return { rssKiB: Math.min(...within.map((s) => s.rssKiB)), fds: Math.min(...within.map((s) => s.fds)), samples: within.length }
}

const MINUTE_MS = 60_000

/**
 * The figures growth is judged on: the floor of minute 1 (60-120 s) and of the last minute of
 * the load. Garbage collection makes RSS a saw (in 10 minutes here it swung between ~89 and
 * ~116 MiB, more than the 10% allowed), so one sample says more about when it was taken than
 * about a leak; the floor over a minute is what is left after a collection, and what a leak
 * raises. Runs shorter than 3 minutes are not judged: their two minutes would overlap.
 */
export function growthFigures(samples: Sample[], loadMs: number) {
  const minute1 = floor(samples, MINUTE_MS, 2 * MINUTE_MS)
  const lastMinute = floor(samples, loadMs - MINUTE_MS, Number.POSITIVE_INFINITY)
  const perMinute = Array.from({ length: Math.ceil(loadMs / MINUTE_MS) }, (_, m) =>
    floor(samples, m * MINUTE_MS, m === Math.ceil(loadMs / MINUTE_MS) - 1 ? Number.POSITIVE_INFINITY : (m + 1) * MINUTE_MS),
  )
  return { minute1, lastMinute, perMinute, judged: loadMs >= 3 * MINUTE_MS && minute1 !== undefined && lastMinute !== undefined }
}
