/**
 * The server as a child process, the way it runs in production: for tests that restart it,
 * kill it, or drive it from a browser. Each server gets its own port and database file.
 * With CHAT_SERVER_BIN set, the child is that compiled binary instead of `bun run src/main.ts`,
 * so the same tests check the artifact that ships. With CHAT_TEST_STORE=postgres it gets a
 * PostgreSQL database instead (DATABASE_URL), one per dbPath as the file would be.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Subprocess } from 'bun'
import { serverDatabase } from './postgres'

const ROOT = resolve(import.meta.dir, '../..')
const START_DEADLINE_MS = 15_000
const STOP_DEADLINE_MS = 15_000

export interface ServerProcess {
  url: string
  port: number
  dbPath: string
  /** The PostgreSQL database it runs on (CHAT_TEST_STORE=postgres, or DATABASE_URL given); else undefined. */
  databaseUrl?: string
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

/** The compiled binary the tests run against, when set; undefined: the source. */
export const SERVER_BINARY = process.env.CHAT_SERVER_BIN ? resolve(process.env.CHAT_SERVER_BIN) : undefined

/** The command that runs the server: the binary under test, or the source. */
export const serverCommand = () => (SERVER_BINARY ? [SERVER_BINARY] : [process.execPath, 'run', 'src/main.ts'])

export async function spawnServer(options: SpawnOptions = {}): Promise<ServerProcess> {
  // Without a port the first start takes any free one (PORT=0) and reads it from the banner,
  // so two test runs on one machine never race for a probed port; restarts keep that port.
  let port = options.port ?? 0
  const dbPath = options.dbPath ?? join(mkdtempSync(join(tmpdir(), 'chat-server-')), 'chat.db')
  // The PostgreSQL database outlives stop(), which restart() may follow: it goes when this
  // test process has ended (dropLeftoverTestDatabases, run by the next sweep).
  const database = options.env?.DATABASE_URL === undefined ? await serverDatabase(dbPath) : undefined
  const env = {
    ...process.env,
    HOST: '127.0.0.1',
    DATABASE_PATH: dbPath,
    // Empty reads as unset: a DATABASE_URL in this process's environment picks no database.
    DATABASE_URL: database?.url ?? '',
    LOG_LEVEL: 'warn',
    // Tests register many users from one address; a test of the limit turns it on.
    RATE_LIMIT_AUTH_PER_MINUTE: '0',
    ...options.env,
  }

  const start = async () => {
    const proc = Bun.spawn(serverCommand(), { cwd: ROOT, env: { ...env, PORT: String(port) }, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
    port = await waitForListening(proc)
    return proc
  }

  const proc = await start()
  const server: ServerProcess = {
    url: `http://127.0.0.1:${port}`,
    port,
    dbPath,
    databaseUrl: env.DATABASE_URL || undefined,
    proc,
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

/** main.ts's start-up line; the space after the port proves the number was read whole. */
const BANNER = /listening on http:\/\/\S+:(\d+) /

/**
 * Resolves with the port once the server prints its "listening" line; fails with its output if
 * it exits or stays silent past the deadline. Both pipes keep being drained afterwards, so a
 * chatty server never blocks on a full pipe.
 */
async function waitForListening(proc: Subprocess<'ignore', 'pipe', 'pipe'>): Promise<number> {
  let output = ''
  let announced = false
  let announce: (port: number) => void = () => {}
  const listening = new Promise<number>((resolve) => (announce = resolve))

  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder()
    for await (const chunk of stream) {
      output += decoder.decode(chunk, { stream: true })
      const banner = announced ? null : BANNER.exec(output)
      if (banner) {
        announced = true
        announce(Number(banner[1]))
      }
      // Keep only the tail: enough to explain a failure, bounded in a long run.
      if (output.length > 20_000) output = output.slice(-10_000)
    }
  }
  void drain(proc.stdout)
  void drain(proc.stderr)

  const exited = proc.exited.then((code) => {
    throw new Error(`the server exited (code ${code}) before listening:\n${output}`)
  })
  return await within(Promise.race([listening, exited]), START_DEADLINE_MS, `the server did not start within ${START_DEADLINE_MS} ms`).catch((error) => {
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
