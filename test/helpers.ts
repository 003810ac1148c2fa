/**
 * Test support: a real server on a free port with a temp database, a small HTTP client, and an
 * SSE reader that parses the real bytes of a stream.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createApp } from '../src/app'
import { defaultConfig, SETTINGS, type Config } from '../src/config'
import { createDeps, type Deps } from '../src/deps'
import { serverOptions } from '../src/http/server-options'
import { createLogger } from '../src/log'
import { serverDatabase } from './support/postgres'
import { SERVER_BINARY, spawnServer } from './support/server-process'

export interface TestServer {
  url: string
  /**
   * The server's insides, present only in-process: a test that reads them does not run against
   * the binary (CHAT_SERVER_BIN), so ask over HTTP (/metrics, the API) whenever you can.
   */
  deps?: Deps
  config: Config
  stop(): Promise<void>
}

export const tempDir = () => mkdtempSync(join(tmpdir(), 'chat-test-'))

/**
 * Starts a server on a free port with a new database; rate limits are off unless a test turns
 * them on. In-process by default; with CHAT_SERVER_BIN set, that compiled binary as a child
 * process, configured with the same settings through their environment variables. With
 * CHAT_TEST_STORE=postgres (and no databaseUrl of the test's own) the database is a new
 * PostgreSQL one, shared with the other servers on the same databasePath (which still decides
 * where uploads go) and dropped once the last of them stops.
 */
export async function startServer(overrides: Partial<Config> = {}): Promise<TestServer> {
  const config: Config = {
    ...defaultConfig(),
    port: 0,
    host: '127.0.0.1',
    databasePath: join(tempDir(), 'chat.db'),
    rateLimitMessagesPerMinute: 0,
    rateLimitAuthPerMinute: 0,
    logLevel: 'error',
    ...overrides,
  }
  const database = 'databaseUrl' in overrides ? undefined : await serverDatabase(config.databasePath)
  if (database) config.databaseUrl = database.url
  let server: TestServer
  try {
    server = SERVER_BINARY ? await startBinary(config) : await startInProcess(config)
  } catch (error) {
    await database?.release()
    throw error
  }
  if (!database) return server
  const stop = server.stop
  server.stop = async () => {
    try {
      await stop()
    } finally {
      await database.release()
    }
  }
  return server
}

async function startInProcess(config: Config): Promise<TestServer> {
  const deps = await createDeps(config, createLogger(config.logLevel))
  const app = createApp(deps).listen(serverOptions(config))
  return {
    url: `http://127.0.0.1:${app.server!.port}`,
    deps,
    config,
    async stop() {
      deps.streams.endAll()
      await app.stop(true)
      await deps.close()
    },
  }
}

/**
 * Every setting goes to the child, unset ones as empty (which reads as the default), so nothing
 * in this process's environment changes the configuration a test asked for.
 */
async function startBinary(config: Config): Promise<TestServer> {
  const env = Object.fromEntries(SETTINGS.map((s) => [s.env, config[s.key] === undefined ? '' : String(config[s.key])]))
  const child = await spawnServer({ port: config.port, dbPath: config.databasePath, env })
  return {
    url: child.url,
    config: { ...config, port: child.port },
    async stop() {
      const code = await child.stop('SIGTERM')
      if (code !== 0) throw new Error(`the server exited with code ${code} on SIGTERM`)
    },
  }
}

export interface Reply<T = any> {
  status: number
  body: T
  headers: Headers
}

/** One HTTP call; JSON in and out. */
export async function call<T = any>(
  url: string,
  path: string,
  options: { method?: string; token?: string; body?: unknown; headers?: Record<string, string>; raw?: BodyInit } = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = { ...options.headers }
  if (options.token) headers.authorization = `Bearer ${options.token}`
  let body: BodyInit | undefined = options.raw
  if (options.body !== undefined) {
    body = JSON.stringify(options.body)
    headers['content-type'] ??= 'application/json'
  }
  const res = await fetch(url + path, { method: options.method ?? (body === undefined ? 'GET' : 'POST'), headers, body })
  const text = await res.text()
  let parsed: unknown = text
  try {
    parsed = text ? JSON.parse(text) : undefined
  } catch {
    // not JSON: kept as text so the test can say what came back
  }
  return { status: res.status, body: parsed as T, headers: res.headers }
}

export interface TestUser {
  id: number
  username: string
  token: string
}

let userSeq = 0
const runId = Math.random().toString(36).slice(2, 7)

/** Registers a fresh user (unique name per call). */
export async function newUser(url: string, prefix = 'user'): Promise<TestUser> {
  const username = `${prefix}_${runId}_${++userSeq}`.toLowerCase().slice(0, 32)
  const res = await call(url, '/api/auth/register', { body: { username, password: 'password-123' } })
  if (res.status !== 201) throw new Error(`register ${username}: ${res.status} ${JSON.stringify(res.body)}`)
  return { id: res.body.user.id, username, token: res.body.token }
}

/** Registers n users at once (typed so that destructuring the first four needs no checks). */
export const newUsers = (url: string, n: number, prefix = 'user') =>
  Promise.all(Array.from({ length: n }, () => newUser(url, prefix))) as Promise<[TestUser, TestUser, TestUser, TestUser, ...TestUser[]]>

export async function createRoom(url: string, owner: TestUser, options: { name?: string; visibility?: 'public' | 'private'; participantIds?: number[] } = {}) {
  const res = await call(url, '/api/chat/rooms', { token: owner.token, body: { name: options.name ?? 'room', ...options } })
  if (res.status !== 201) throw new Error(`create room: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body as { id: number; [k: string]: any }
}

export async function post(url: string, user: TestUser, roomId: number, content: string, clientMessageId?: string) {
  const res = await call(url, `/api/chat/rooms/${roomId}/messages`, { token: user.token, body: { content, clientMessageId } })
  if (res.status !== 201 && res.status !== 200) throw new Error(`post: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body as { id: number; [k: string]: any }
}

export interface SseEvent {
  event: string
  id?: string
  data: string
  json: any
}

/**
 * Reads a live SSE response and parses its frames as they arrive. `next` awaits the next event
 * matching a predicate, with a deadline: tests wait for what they expect, never sleep.
 */
export class SseStream {
  readonly events: SseEvent[] = []
  comments = 0
  retry: number | null = null
  closed = false
  private buffer = ''
  private cursor = 0
  private waiters: (() => void)[] = []
  private readonly done: Promise<void>

  constructor(readonly response: Response, private readonly abort: AbortController) {
    this.done = this.pump()
  }

  private async pump() {
    const reader = this.response.body!.getReader()
    const decoder = new TextDecoder()
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        this.buffer += decoder.decode(value, { stream: true })
        this.parse()
      }
    } catch {
      // aborted by close(), or the connection dropped: either way the stream is over
    } finally {
      this.closed = true
      this.wake()
    }
  }

  private parse() {
    for (let end = this.buffer.indexOf('\n\n'); end >= 0; end = this.buffer.indexOf('\n\n')) {
      const block = this.buffer.slice(0, end)
      this.buffer = this.buffer.slice(end + 2)
      const frame: SseEvent = { event: 'message', data: '', json: undefined }
      let hasData = false
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) this.comments++
        else if (line.startsWith('retry: ')) this.retry = Number(line.slice(7))
        else if (line.startsWith('event: ')) frame.event = line.slice(7)
        else if (line.startsWith('id: ')) frame.id = line.slice(4)
        else if (line.startsWith('data: ')) {
          frame.data += (hasData ? '\n' : '') + line.slice(6)
          hasData = true
        }
      }
      if (hasData) {
        frame.json = JSON.parse(frame.data)
        this.events.push(frame)
      }
    }
    this.wake()
  }

  private wake() {
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w()
  }

  /** Resolves on new input or the end of the stream. */
  private changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve))
  }

  /** The next unconsumed event matching `match` (events before it are skipped). */
  async next(match: (e: SseEvent) => boolean = () => true, timeoutMs = 5000): Promise<SseEvent> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      while (this.cursor < this.events.length) {
        const e = this.events[this.cursor++]!
        if (match(e)) return e
      }
      if (this.closed) throw new Error(`stream ended while waiting; saw ${this.events.map((e) => e.event).join(',')}`)
      await within(this.changed(), deadline - Date.now(), `no matching event within ${timeoutMs} ms; saw ${this.events.map((e) => `${e.event}#${e.id ?? ''}`).join(',')}`)
    }
  }

  /** Waits until `condition` holds over everything received so far. */
  async until(condition: (s: SseStream) => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs
    while (!condition(this)) {
      if (this.closed) throw new Error(`stream ended before ${what}`)
      await within(this.changed(), deadline - Date.now(), `${what} not met within ${timeoutMs} ms`)
    }
  }

  /** Resolves when the server ends the stream. */
  async ended(timeoutMs = 5000): Promise<void> {
    await within(this.done, timeoutMs, `stream still open after ${timeoutMs} ms`)
  }

  messageIds(roomId?: number): number[] {
    return this.events.filter((e) => e.event === 'message' && (roomId === undefined || e.json.roomId === roomId)).map((e) => Number(e.id))
  }

  close() {
    this.abort.abort()
  }
}

export async function openStream(url: string, path: string, token: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const abort = new AbortController()
  const response = await fetch(url + path, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream', ...headers }, signal: abort.signal })
  if (response.status !== 200) throw new Error(`stream ${path}: ${response.status} ${await response.text()}`)
  return new SseStream(response, abort)
}

export function within<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), Math.max(0, ms)))),
  ]).finally(() => clearTimeout(timer))
}

/** Polls `check` until it holds (for state only observable by asking again, e.g. presence). */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${timeoutMs} ms`)
    await Bun.sleep(25)
  }
}

export const isAscendingUnique = (ids: number[]) => ids.every((id, i) => i === 0 || id > ids[i - 1]!)
