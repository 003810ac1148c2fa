/**
 * Soak: minutes of users opening, closing and resuming streams, posting and reading history
 * against the compiled binary, then checking that delivery stayed exactly-once and in order and
 * that the server's memory and file descriptors stayed flat. Not part of `bun test`.
 *
 *   bun scripts/soak.ts [--minutes 10] [--users 200] [--binary dist/chat-server]
 *   bun scripts/soak.ts --url http://127.0.0.1:3000 [--pid <server pid>] [--minutes 1]
 *
 * Without --url it runs `bun run build` (unless --binary is given), copies the binary to a temp
 * folder (a rebuild during the soak cannot touch the running file) and starts it there on a
 * free loopback port with a temp database; it kills that server however the soak ends.
 *
 * Each user holds two stream slots, a user stream and a room stream. A slot runs logical
 * streams one after another: a fresh connection, then 0-4 resumes (closed by the client after
 * 1-12 s, reopened with Last-Event-ID or ?lastEventId= after 0-500 ms), then a drain (wait until
 * the newest message posted to its rooms arrived) and a close. Each user also posts (75%: one in
 * twenty repeats an earlier clientMessageId and must get the same message back with a 200) or
 * reads history (25%) every 1-7 s. After the load, every room's history is read whole: that is
 * the truth each logical stream is checked against:
 *   - its message ids strictly ascend over all its connections (no duplicate, no reordering);
 *   - every message of its rooms between its first and its last delivery arrived (none lost
 *     across a resume);
 *   - none posted after its first connection answered is missing before its first delivery,
 *     and its first delivery was not posted (201) before it connected;
 *   - it caught up within DRAIN_MS at the end.
 * Every 201 must be in the history. The server's VmRSS and open fds are sampled every
 * SAMPLE_MS; the figure at the end of the load may exceed the one at minute 1 (or half-way, for
 * runs under two minutes) by at most 10%.
 *
 * Exit 0 when all holds, 1 (with every reason) when not, 2 on bad usage.
 */
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { openSse, type SseStream } from '../bench/load/sse-reader'

const SAMPLE_MS = 5_000
const DRAIN_MS = 15_000
const REQUEST_TIMEOUT_MS = 15_000
const OPEN_TIMEOUT_MS = 15_000
/** Requests in flight at once: a small pool, far under fetch's own cap of 256. */
const HTTP_CONCURRENCY = 16
const ROOMS_PER_USER = 3
const USERS_PER_ROOM_SHARE = 10 // one room per this many users
const GROWTH_ALLOWED = 0.1
const PASSWORD = 'soak-password'

// ---- options ----------------------------------------------------------------------------

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

// ---- small tools ------------------------------------------------------------------------

const random = (min: number, max: number) => min + Math.random() * (max - min)
const randomInt = (min: number, max: number) => Math.floor(random(min, max + 1))
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!
const delay = (ms: number) => new Promise<void>((done) => setTimeout(done, ms))

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: Timer
  const timeout = new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new Error(`${what}: no answer within ${ms} ms`)), ms)))
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN
}

/** What went wrong, by kind, with the first few examples of each. */
const problems = new Map<string, { count: number; examples: string[] }>()
function problem(kind: string, example: string): void {
  const entry = problems.get(kind) ?? { count: 0, examples: [] }
  entry.count++
  if (entry.examples.length < 5) entry.examples.push(example)
  problems.set(kind, entry)
}

// ---- the server -------------------------------------------------------------------------

interface Server {
  base: string
  port: number
  pid: number | undefined
  exited: () => number | null
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

async function startBinary(binary: string): Promise<Server> {
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
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000)
      await proc.exited
      clearTimeout(timer)
    }
    rmSync(folder, { recursive: true, force: true })
  }
  try {
    const port = await withTimeout(readPort(proc.stdout), 30_000, 'the server start-up line')
    return { base: `http://127.0.0.1:${port}`, port, pid: proc.pid, exited: () => code, stop }
  } catch (error) {
    await stop()
    throw error
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

function build(): string {
  const root = join(import.meta.dir, '..')
  const result = Bun.spawnSync(['bun', 'run', 'build'], { cwd: root, stdout: 'ignore', stderr: 'pipe' })
  if (result.exitCode !== 0) throw new Error(`bun run build failed: ${result.stderr.toString().trim()}`)
  return join(root, 'dist', 'chat-server')
}

// ---- samples of the server process --------------------------------------------------------

interface Sample {
  atMs: number
  rssKiB: number
  fds: number
}

function sample(pid: number, atMs: number): Sample {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const rssKiB = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1])
  return { atMs, rssKiB, fds: readdirSync(`/proc/${pid}/fd`).length }
}

// ---- HTTP through a small pool ----------------------------------------------------------

let base = ''
let port = 0
let requests = 0
let inFlight = 0
const waiting: (() => void)[] = []

async function call(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; json: any }> {
  while (inFlight >= HTTP_CONCURRENCY) await new Promise<void>((go) => waiting.push(go))
  inFlight++
  requests++
  try {
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {}
    if (body !== undefined) headers['content-type'] = 'application/json'
    const response = await fetch(base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    })
    const text = await response.text()
    return { status: response.status, json: text ? JSON.parse(text) : undefined }
  } finally {
    inFlight--
    waiting.shift()?.()
  }
}

// ---- users, rooms, posts --------------------------------------------------------------

interface User {
  index: number
  id: number
  token: string
  rooms: number[]
  /** Completed posts of this user, for idempotent repeats. */
  posted: Post[]
}

interface Post {
  roomId: number
  clientMessageId: string
  sentAt: number
  doneAt?: number
  id?: number
}

const postsByClientId = new Map<string, Post>()
const postsById = new Map<number, Post>()
/** Each room's completed posts, in completion order: the recent end gives a drain its target. */
const donePosts = new Map<number, Post[]>()
let postsCreated = 0
let repeats = 0
let historyReads = 0
const RUN = `${process.pid.toString(36)}${Date.now().toString(36)}`
let nextClientId = 0

async function setUp(count: number): Promise<User[]> {
  const users: User[] = []
  const queue = Array.from({ length: count }, (_, index) => index)
  // A few at a time: each registration is an argon2 hash on the server.
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let index = queue.shift(); index !== undefined; index = queue.shift()) {
        const { status, json } = await call('POST', '/api/auth/register', undefined, { username: `s${RUN}_${index}`, password: PASSWORD })
        if (status !== 201) throw new Error(`register answered ${status}: ${JSON.stringify(json)}`)
        users[index] = { index, id: json.user.id, token: json.token, rooms: [], posted: [] }
      }
    }),
  )
  const roomCount = Math.max(2, Math.ceil(count / USERS_PER_ROOM_SHARE))
  const members: User[][] = Array.from({ length: roomCount }, () => [])
  for (const user of users) {
    const slots = Array.from({ length: roomCount }, (_, i) => i).sort(() => Math.random() - 0.5)
    for (const slot of slots.slice(0, Math.min(ROOMS_PER_USER, roomCount))) members[slot]!.push(user)
  }
  // Rooms are made with all their participants at once: no JOIN messages, memberships fixed.
  for (const [slot, [owner, ...others]] of members.entries()) {
    if (!owner) continue
    const { status, json } = await call('POST', '/api/chat/rooms', owner.token, { name: `soak ${slot}`, participantIds: others.map((u) => u.id) })
    if (status !== 201) throw new Error(`create room answered ${status}: ${JSON.stringify(json)}`)
    for (const user of [owner, ...others]) user.rooms.push(json.id)
    donePosts.set(json.id, [])
  }
  return users
}

async function post(user: User): Promise<void> {
  const earlier = Math.random() < 0.05 && user.posted.length ? pick(user.posted) : undefined
  const roomId = earlier?.roomId ?? pick(user.rooms)
  const clientMessageId = earlier?.clientMessageId ?? `${RUN}-${nextClientId++}`
  const fresh: Post | undefined = earlier ? undefined : { roomId, clientMessageId, sentAt: performance.now() }
  if (fresh) postsByClientId.set(clientMessageId, fresh)
  const { status, json } = await call('POST', `/api/chat/rooms/${roomId}/messages`, user.token, { content: `soak message ${clientMessageId}`, clientMessageId })
  if (earlier) {
    repeats++
    if (status !== 200 || json?.id !== earlier.id) problem('idempotent repeat not answered with the first message', `${clientMessageId}: ${status} id ${json?.id}, first was ${earlier.id}`)
    return
  }
  if (status !== 201) return problem('post failed', `${status} ${JSON.stringify(json)}`)
  fresh!.id = json.id
  fresh!.doneAt = performance.now()
  postsById.set(json.id, fresh!)
  donePosts.get(roomId)!.push(fresh!)
  user.posted.push(fresh!)
  postsCreated++
}

async function readHistory(user: User): Promise<void> {
  historyReads++
  const roomId = pick(user.rooms)
  const limit = randomInt(1, 200)
  const known = donePosts.get(roomId)!
  const cursorPost = known.length ? pick(known) : undefined
  const mode = cursorPost ? pick(['newest', 'afterId', 'lastMessageId'] as const) : 'newest'
  const query = mode === 'newest' ? `limit=${limit}` : `${mode}=${cursorPost!.id}&limit=${limit}`
  const { status, json } = await call('GET', `/api/chat/rooms/${roomId}/messages?${query}`, user.token)
  if (status !== 200) return problem('history read failed', `${query}: ${status} ${JSON.stringify(json)}`)
  const ids: number[] = json.map((m: { id: number }) => m.id)
  const wrong =
    ids.length > limit ||
    ids.some((id, i) => i > 0 && id <= ids[i - 1]!) ||
    json.some((m: { roomId: number }) => m.roomId !== roomId) ||
    (mode === 'afterId' && ids.some((id) => id <= cursorPost!.id!)) ||
    (mode === 'lastMessageId' && ids.some((id) => id >= cursorPost!.id!))
  if (wrong) problem('history page wrong', `room ${roomId} ${query}: ${ids.slice(0, 10).join(',')}`)
}

// ---- streams ----------------------------------------------------------------------------

let streamsOpened = 0
let resumes = 0
let serverCloses = 0
let deliveries = 0
const liveLatencies: number[] = []

/** One stream as a client sees it, over all its connections. */
interface LogicalStream {
  name: string
  rooms: Set<number>
  firstSentAt: number
  /** When its first connection answered 200: the server fixed its start point before this. */
  headersAt: number
  /** When the current connection answered. */
  connectedAt: number
  ids: number[]
  lastId: number | undefined
  caughtUp?: { target: number; done: () => void }
}

function deliver(stream: LogicalStream, id: number, data: string, receivedAt: number): void {
  deliveries++
  stream.ids.push(id)
  stream.lastId = id
  const sent = postsByClientId.get((JSON.parse(data) as { clientMessageId: string | null }).clientMessageId ?? '')
  // Live latency only: a post sent while this connection was open, not one replayed on resume.
  if (sent && sent.sentAt > stream.connectedAt) liveLatencies.push(receivedAt - sent.sentAt)
  if (stream.caughtUp && id >= stream.caughtUp.target) stream.caughtUp.done()
}

async function connect(stream: LogicalStream, user: User, path: string): Promise<SseStream> {
  const headers: Record<string, string> = { authorization: `Bearer ${user.token}` }
  const resuming = stream.lastId !== undefined
  if (resuming && Math.random() < 0.3) path += `?lastEventId=${stream.lastId}`
  else if (resuming) headers['last-event-id'] = String(stream.lastId)
  requests++
  streamsOpened++
  if (resuming) resumes++
  const sentAt = performance.now()
  if (stream.ids.length === 0 && !resuming) stream.firstSentAt = sentAt
  const sse = await withTimeout(
    openSse({ port, path, headers, onMessage: (id, data, at) => deliver(stream, id, data, at) }),
    OPEN_TIMEOUT_MS,
    `open ${path}`,
  )
  stream.connectedAt = performance.now()
  if (!resuming) stream.headersAt = stream.connectedAt
  return sse
}

/** The newest completed post of the stream's rooms that was sent after it first connected. */
function drainTarget(stream: LogicalStream): number | undefined {
  let target: number | undefined
  for (const roomId of stream.rooms) {
    const done = donePosts.get(roomId)!
    // Completion order follows id order within a few posts; the last few hold the newest.
    for (const p of done.slice(-HTTP_CONCURRENCY)) if (p.sentAt > stream.headersAt && (target === undefined || p.id! > target)) target = p.id
  }
  return target
}

async function drain(stream: LogicalStream): Promise<void> {
  const target = drainTarget(stream)
  if (target === undefined || (stream.lastId ?? 0) >= target) return
  const { promise, resolve } = Promise.withResolvers<void>()
  stream.caughtUp = { target, done: resolve }
  const timer = setTimeout(() => {
    problem('stream did not catch up', `${stream.name}: last ${stream.lastId}, newest posted ${target}, after ${DRAIN_MS} ms`)
    resolve()
  }, DRAIN_MS)
  await promise
  clearTimeout(timer)
  stream.caughtUp = undefined
}

const streams: LogicalStream[] = []
let loadEnded: Promise<void>
let loadRunning = true

/** Logical streams of one kind for one user, one after another, until the load ends. */
async function streamSlot(user: User, kind: 'user' | 'room'): Promise<void> {
  while (loadRunning) {
    const roomId = pick(user.rooms)
    const path = kind === 'user' ? '/api/chat/stream' : `/api/chat/rooms/${roomId}/subscribe`
    const stream: LogicalStream = {
      name: `user ${user.index} ${kind === 'user' ? 'user stream' : `room ${roomId} stream`} #${streams.length}`,
      rooms: new Set(kind === 'user' ? user.rooms : [roomId]),
      firstSentAt: 0,
      headersAt: 0,
      connectedAt: 0,
      ids: [],
      lastId: undefined,
    }
    streams.push(stream)
    let resumesLeft = randomInt(0, 4)
    for (;;) {
      let sse: SseStream
      try {
        sse = await connect(stream, user, path)
      } catch (error) {
        problem('stream open failed', `${stream.name}: ${(error as Error).message}`)
        await delay(1000)
        break
      }
      const ended = await Promise.race([sse.closed.then(() => 'server' as const), delay(random(1000, 12_000)).then(() => 'timer' as const), loadEnded.then(() => 'end' as const)])
      if (ended === 'server') {
        // Cut by the server (a slow reader, a restart): a client resumes, if it has an id to resume from.
        serverCloses++
        if (stream.lastId === undefined || !loadRunning) break
        continue
      }
      if (ended === 'timer' && resumesLeft > 0 && stream.lastId !== undefined) {
        resumesLeft--
        sse.close()
        await sse.closed
        await delay(random(0, 500))
        continue
      }
      await drain(stream)
      sse.close()
      await sse.closed
      break
    }
  }
}

async function actions(user: User): Promise<void> {
  while (loadRunning) {
    await Promise.race([delay(random(1000, 7000)), loadEnded])
    if (!loadRunning) return
    try {
      if (Math.random() < 0.75) await post(user)
      else await readHistory(user)
    } catch (error) {
      problem('request failed', (error as Error).message)
    }
  }
}

// ---- the check ----------------------------------------------------------------------------

/** Every room's whole history, read back after the load: the truth streams are held to. */
async function readAllHistory(users: User[]): Promise<Map<number, number[]>> {
  const owners = new Map<number, User>()
  for (const user of users) for (const roomId of user.rooms) if (!owners.has(roomId)) owners.set(roomId, user)
  const history = new Map<number, number[]>()
  for (const [roomId, owner] of owners) {
    const ids: number[] = []
    for (let after = 0; ; ) {
      const { status, json } = await call('GET', `/api/chat/rooms/${roomId}/messages?afterId=${after}&limit=200`, owner.token)
      if (status !== 200) throw new Error(`history of room ${roomId} answered ${status}`)
      for (const m of json as { id: number }[]) ids.push(m.id)
      if (json.length < 200) break
      after = json[json.length - 1].id
    }
    history.set(roomId, ids)
  }
  return history
}

function check(history: Map<number, number[]>): void {
  const roomOf = new Map<number, number>()
  for (const [roomId, ids] of history) for (const id of ids) roomOf.set(id, roomId)
  for (const [id, p] of postsById) if (roomOf.get(id) !== p.roomId) problem('posted (201) but not in history', `message ${id} in room ${p.roomId}`)

  for (const stream of streams) {
    const seen = new Set<number>()
    for (const [i, id] of stream.ids.entries()) {
      if (seen.has(id)) problem('duplicate delivery', `${stream.name}: message ${id} twice`)
      else if (i > 0 && id < stream.ids[i - 1]!) problem('out of order', `${stream.name}: ${id} after ${stream.ids[i - 1]}`)
      seen.add(id)
      const roomId = roomOf.get(id)
      if (roomId === undefined || !stream.rooms.has(roomId)) problem('delivered a message not of its rooms', `${stream.name}: message ${id}`)
    }
    const first = stream.ids[0]
    const last = stream.ids.at(-1)
    const firstPost = first === undefined ? undefined : postsById.get(first)
    if (firstPost?.doneAt !== undefined && firstPost.doneAt < stream.firstSentAt) {
      problem('delivered a message posted before the stream connected', `${stream.name}: message ${first}`)
    }
    if (first === undefined) continue // nothing arrived: the drain said whether something should have
    for (const roomId of stream.rooms) {
      const ids = history.get(roomId)!
      const start = lowerBound(ids, first)
      for (let i = start; i < ids.length && ids[i]! < last!; i++) {
        if (!seen.has(ids[i]!)) problem('lost', `${stream.name}: message ${ids[i]} (room ${roomId}) between ${first} and ${last}`)
      }
      // Ids follow commit order: once a message was answered 201 before the stream was asked
      // for, every smaller id was committed before it too and is rightly not sent.
      for (let i = start - 1; i >= 0; i--) {
        const p = postsById.get(ids[i]!)
        if (p?.doneAt !== undefined && p.doneAt < stream.firstSentAt) break
        if (p && p.sentAt > stream.headersAt) problem('lost at the start', `${stream.name}: message ${ids[i]} posted after the stream connected, before its first ${first}`)
      }
    }
  }
}

/** The first index whose id is >= the one given (ids ascending). */
function lowerBound(ids: number[], id: number): number {
  let low = 0
  let high = ids.length
  while (low < high) {
    const mid = (low + high) >> 1
    if (ids[mid]! < id) low = mid + 1
    else high = mid
  }
  return low
}

// ---- the run ------------------------------------------------------------------------------

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2))
  let server: Server
  if (options.url) {
    const url = new URL(options.url)
    server = { base: url.origin.replace('localhost', '127.0.0.1'), port: Number(url.port || 80), pid: options.pid, exited: () => null, stop: async () => {} }
  } else {
    const binary = options.binary ? resolve(options.binary) : build()
    server = await startBinary(binary)
  }
  const stopOnSignal = () => void server.stop().then(() => process.exit(130))
  process.on('SIGINT', stopOnSignal)
  process.on('SIGTERM', stopOnSignal)

  try {
    ;({ base, port } = server)
    console.log(`soak: ${options.users} users for ${options.minutes} min against ${base}${server.pid ? ` (pid ${server.pid})` : ''}`)
    const users = await setUp(options.users)
    console.log(`soak: ${users.length} users in ${donePosts.size} rooms; load starts`)

    const loadMs = options.minutes * 60_000
    const started = performance.now()
    const samples: Sample[] = []
    const takeSample = () => {
      if (server.pid !== undefined) samples.push(sample(server.pid, performance.now() - started))
      const exited = server.exited()
      if (exited !== null) problem('server exited', `exit code ${exited}`)
    }
    takeSample()
    const sampler = setInterval(takeSample, SAMPLE_MS)
    const progress = setInterval(() => {
      const s = samples.at(-1)
      console.log(`soak: ${((performance.now() - started) / 60_000).toFixed(1)} min, ${postsCreated} posted, ${deliveries} deliveries, ${streamsOpened} streams opened${s ? `, RSS ${(s.rssKiB / 1024).toFixed(1)} MiB, ${s.fds} fds` : ''}`)
    }, 60_000)
    loadEnded = delay(loadMs).then(() => {
      loadRunning = false
      clearInterval(sampler)
      clearInterval(progress)
      takeSample() // the end figure, still under load
    })
    const loadStartedRequests = requests
    await Promise.all(users.flatMap((user) => [streamSlot(user, 'user'), streamSlot(user, 'room'), actions(user)]))
    const elapsedS = (performance.now() - started) / 1000
    const loadRequests = requests - loadStartedRequests

    check(await readAllHistory(users))

    const baselineAt = Math.min(60_000, loadMs / 2)
    const baseline = samples.find((s) => s.atMs >= baselineAt)
    const end = samples.at(-1)
    if (baseline && end && baseline !== end) {
      if (end.rssKiB > baseline.rssKiB * (1 + GROWTH_ALLOWED)) problem('RSS grew', `${baseline.rssKiB} KiB at ${(baseline.atMs / 1000).toFixed(0)} s -> ${end.rssKiB} KiB at the end`)
      if (end.fds > baseline.fds * (1 + GROWTH_ALLOWED)) problem('open fds grew', `${baseline.fds} at ${(baseline.atMs / 1000).toFixed(0)} s -> ${end.fds} at the end`)
    }

    liveLatencies.sort((a, b) => a - b)
    const mib = (s: Sample | undefined) => (s ? `${(s.rssKiB / 1024).toFixed(1)} MiB, ${s.fds} fds (at ${(s.atMs / 1000).toFixed(0)} s)` : 'not sampled (give --pid with --url)')
    console.log(
      [
        '',
        `soak summary (${options.users} users, ${elapsedS.toFixed(0)} s of load incl. the final drain)`,
        `  messages posted (201)     ${postsCreated} (+ ${repeats} idempotent repeats, ${historyReads} history reads)`,
        `  deliveries                ${deliveries}`,
        `  streams opened            ${streamsOpened} (${streams.length} logical streams, ${resumes} resumes, ${serverCloses} closed by the server)`,
        `  requests/s                ${(loadRequests / elapsedS).toFixed(1)} (posts, history reads and stream opens)`,
        `  delivery latency          p50 ${percentile(liveLatencies, 50).toFixed(1)} ms, p99 ${percentile(liveLatencies, 99).toFixed(1)} ms (post sent -> event read, ${liveLatencies.length} live deliveries)`,
        `  server ${baselineAt === 60_000 ? 'at minute 1   ' : 'half-way      '}       ${mib(baseline)}`,
        `  server at the end         ${mib(end)}`,
      ].join('\n'),
    )
  } finally {
    await server.stop()
  }

  if (problems.size === 0) {
    console.log('soak: PASS (every stream saw each message of its rooms exactly once, in order; RSS and fds within 10%)')
    return 0
  }
  console.log('soak: FAIL')
  for (const [kind, { count, examples }] of problems) console.log(`  ${kind}: ${count}\n${examples.map((e) => `    ${e}`).join('\n')}`)
  return 1
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(`soak: ${(error as Error).message}`)
    process.exit(1)
  },
)
