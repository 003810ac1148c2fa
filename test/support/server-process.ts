/**
 * The server as a child process, the way it runs in production: for tests that restart it,
 * kill it, or drive it from a browser. Each server gets its own port and database file.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Subprocess } from 'bun'

const ROOT = resolve(import.meta.dir, '../..')
const START_DEADLINE_MS = 15_000
const STOP_DEADLINE_MS = 15_000

export interface ServerProcess {
  url: string
  port: number
  dbPath: string
  /** The current child; replaced by restart(). */
  proc: Subprocess<'ignore', 'pipe', 'pipe'>
  /** Signals the server and waits for it to exit; resolves with its exit code. */
  stop(signal?: 'SIGTERM' | 'SIGKILL'): Promise<number>
  /** Stops it if it runs (SIGTERM), then starts it again on the same port and database. */
  restart(): Promise<void>
}

export interface SpawnOptions {
  port?: number
  dbPath?: string
  env?: Record<string, string>
}

/** A port nobody listens on right now: the OS picks one, and it is released at once. */
export function freePort(): number {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const { port } = probe
  probe.stop(true)
  return port
}

export async function spawnServer(options: SpawnOptions = {}): Promise<ServerProcess> {
  const port = options.port ?? freePort()
  const dbPath = options.dbPath ?? join(mkdtempSync(join(tmpdir(), 'chat-server-')), 'chat.db')
  const env = {
    ...process.env,
    PORT: String(port),
    HOST: '127.0.0.1',
    DATABASE_PATH: dbPath,
    LOG_LEVEL: 'warn',
    // Tests register many users from one address; a test of the limit turns it on.
    RATE_LIMIT_AUTH_PER_MINUTE: '0',
    ...options.env,
  }

  const start = async () => {
    const proc = Bun.spawn([process.execPath, 'run', 'src/main.ts'], { cwd: ROOT, env, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
    await waitForListening(proc)
    return proc
  }

  const server: ServerProcess = {
    url: `http://127.0.0.1:${port}`,
    port,
    dbPath,
    proc: await start(),
    async stop(signal = 'SIGTERM') {
      const { proc } = server
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal)
      const code = await within(proc.exited, STOP_DEADLINE_MS, `the server did not exit within ${STOP_DEADLINE_MS} ms of ${signal}`).catch((error) => {
        proc.kill('SIGKILL')
        throw error
      })
      return code
    },
    async restart() {
      await server.stop('SIGTERM')
      server.proc = await start()
    },
  }
  return server
}

/**
 * Resolves once the server prints its "listening" line; fails with its output if it exits or
 * stays silent past the deadline. Both pipes keep being drained afterwards, so a chatty server
 * never blocks on a full pipe.
 */
async function waitForListening(proc: Subprocess<'ignore', 'pipe', 'pipe'>): Promise<void> {
  let output = ''
  let announce: () => void = () => {}
  const listening = new Promise<void>((resolve) => (announce = resolve))

  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder()
    for await (const chunk of stream) {
      output += decoder.decode(chunk, { stream: true })
      if (/listening/i.test(output)) announce()
      // Keep only the tail: enough to explain a failure, bounded in a long run.
      if (output.length > 20_000) output = output.slice(-10_000)
    }
  }
  void drain(proc.stdout)
  void drain(proc.stderr)

  const exited = proc.exited.then((code) => {
    throw new Error(`the server exited (code ${code}) before listening:\n${output}`)
  })
  await within(Promise.race([listening, exited]), START_DEADLINE_MS, `the server did not start within ${START_DEADLINE_MS} ms`).catch((error) => {
    proc.kill('SIGKILL')
    throw new Error(`${(error as Error).message}\n${output}`)
  })
}

function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}
