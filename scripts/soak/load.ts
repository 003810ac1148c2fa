/**
 * The soak's users: each holds a user-stream slot and a room-stream slot and, every 1-7 s,
 * posts (75%) or reads history (25%).
 *
 * A slot runs logical streams one after another: a fresh connection, then 0-4 resumes (closed
 * by the client after 1-12 s, reopened after 0-500 ms with Last-Event-ID, or ?lastEventId= one
 * time in three), then a drain (wait until the newest message posted to its rooms has arrived)
 * and a close. One post in twenty repeats an earlier clientMessageId and must get the first
 * message back with a 200.
 *
 * Streams are read with the bench's raw-socket SSE reader (hundreds at once, cheaply); requests
 * go through fetch, at most HTTP_CONCURRENCY at a time.
 */
import { openSse, type SseStream } from '../../bench/load/sse-reader'
import type { Post, Problems, StreamRecord } from './check'

const DRAIN_MS = 15_000
const REQUEST_TIMEOUT_MS = 15_000
const OPEN_TIMEOUT_MS = 15_000
/** Requests in flight at once: a small pool, far under fetch's own cap of 256. */
const HTTP_CONCURRENCY = 16
const ROOMS_PER_USER = 3
/** One room per this many users. */
const USERS_PER_ROOM = 10
const REGISTER_CONCURRENCY = 8
const PASSWORD = 'soak-password'

export interface User {
  index: number
  id: number
  token: string
  rooms: number[]
  /** Completed posts of this user, for idempotent repeats. */
  posted: Post[]
}

/** A stream as a client sees it, over all its connections. */
interface LogicalStream extends StreamRecord {
  /** When the current connection answered. */
  connectedAt: number
  lastId: number | undefined
  caughtUp?: { target: number; done: () => void }
}

const random = (min: number, max: number) => min + Math.random() * (max - min)
const randomInt = (min: number, max: number) => Math.floor(random(min, max + 1))
const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!
const delay = (ms: number) => new Promise<void>((done) => setTimeout(done, ms))

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: Timer | undefined
  const timeout = new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new Error(`${what}: no answer within ${ms} ms`)), ms)))
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

export function createLoad({ base, port, problems }: { base: string; port: number; problems: Problems }) {
  const run = `${process.pid.toString(36)}${Date.now().toString(36)}`
  const stats = { requests: 0, posted: 0, repeats: 0, historyReads: 0, streamsOpened: 0, resumes: 0, serverCloses: 0, deliveries: 0 }
  /** Post sent -> event read, for posts sent while the connection was open (not replays). */
  const liveLatencies: number[] = []
  const postsByClientId = new Map<string, Post>()
  const postsById = new Map<number, Post>()
  /** Each room's completed posts, in completion order: the recent end gives a drain its target. */
  const donePosts = new Map<number, Post[]>()
  const streams: LogicalStream[] = []
  let nextClientId = 0
  let running = true
  let ended: Promise<void> = new Promise(() => {})

  // ---- HTTP through a small pool

  let inFlight = 0
  const waiting: (() => void)[] = []

  async function call(method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; json: any }> {
    while (inFlight >= HTTP_CONCURRENCY) await new Promise<void>((go) => waiting.push(go))
    inFlight++
    stats.requests++
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

  // ---- users, rooms, posts, history

  /** Registers the users and puts each in ROOMS_PER_USER rooms, made with all their participants. */
  async function setUp(count: number): Promise<User[]> {
    const users: User[] = []
    const queue = Array.from({ length: count }, (_, index) => index)
    // A few at a time: each registration is an argon2 hash on the server.
    await Promise.all(
      Array.from({ length: REGISTER_CONCURRENCY }, async () => {
        for (let index = queue.shift(); index !== undefined; index = queue.shift()) {
          const { status, json } = await call('POST', '/api/auth/register', undefined, { username: `s${run}_${index}`, password: PASSWORD })
          if (status !== 201) throw new Error(`register answered ${status}: ${JSON.stringify(json)}`)
          users[index] = { index, id: json.user.id, token: json.token, rooms: [], posted: [] }
        }
      }),
    )
    const roomCount = Math.max(2, Math.ceil(count / USERS_PER_ROOM))
    const members: User[][] = Array.from({ length: roomCount }, () => [])
    for (const user of users) {
      const slots = Array.from({ length: roomCount }, (_, i) => i).sort(() => Math.random() - 0.5)
      for (const slot of slots.slice(0, Math.min(ROOMS_PER_USER, roomCount))) members[slot]!.push(user)
    }
    // All participants at once: no JOIN messages, and memberships stay fixed during the load.
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
    const clientMessageId = earlier?.clientMessageId ?? `${run}-${nextClientId++}`
    const fresh: Post | undefined = earlier ? undefined : { roomId, clientMessageId, sentAt: performance.now() }
    if (fresh) postsByClientId.set(clientMessageId, fresh)
    const { status, json } = await call('POST', `/api/chat/rooms/${roomId}/messages`, user.token, { content: `soak message ${clientMessageId}`, clientMessageId })
    if (earlier) {
      stats.repeats++
      if (status !== 200 || json?.id !== earlier.id) problems.add('idempotent repeat not answered with the first message', `${clientMessageId}: ${status} id ${json?.id}, first was ${earlier.id}`)
      return
    }
    if (status !== 201) return problems.add('post failed', `${status} ${JSON.stringify(json)}`)
    fresh!.id = json.id
    fresh!.doneAt = performance.now()
    postsById.set(json.id, fresh!)
    donePosts.get(roomId)!.push(fresh!)
    user.posted.push(fresh!)
    stats.posted++
  }

  async function readHistory(user: User): Promise<void> {
    stats.historyReads++
    const roomId = pick(user.rooms)
    const limit = randomInt(1, 200)
    const known = donePosts.get(roomId)!
    const cursorPost = known.length ? pick(known) : undefined
    const mode = cursorPost ? pick(['newest', 'afterId', 'lastMessageId'] as const) : 'newest'
    const query = mode === 'newest' ? `limit=${limit}` : `${mode}=${cursorPost!.id}&limit=${limit}`
    const { status, json } = await call('GET', `/api/chat/rooms/${roomId}/messages?${query}`, user.token)
    if (status !== 200) return problems.add('history read failed', `${query}: ${status} ${JSON.stringify(json)}`)
    const ids: number[] = json.map((m: { id: number }) => m.id)
    const wrong =
      ids.length > limit ||
      ids.some((id, i) => i > 0 && id <= ids[i - 1]!) ||
      json.some((m: { roomId: number }) => m.roomId !== roomId) ||
      (mode === 'afterId' && ids.some((id) => id <= cursorPost!.id!)) ||
      (mode === 'lastMessageId' && ids.some((id) => id >= cursorPost!.id!))
    if (wrong) problems.add('history page wrong', `room ${roomId} ${query}: ${ids.slice(0, 10).join(',')}`)
  }

  async function actions(user: User): Promise<void> {
    while (running) {
      await Promise.race([delay(random(1000, 7000)), ended])
      if (!running) return
      try {
        if (Math.random() < 0.75) await post(user)
        else await readHistory(user)
      } catch (error) {
        problems.add('request failed', (error as Error).message)
      }
    }
  }

  // ---- streams

  function deliver(stream: LogicalStream, id: number, data: string, receivedAt: number): void {
    stats.deliveries++
    stream.ids.push(id)
    stream.lastId = id
    const sent = postsByClientId.get((JSON.parse(data) as { clientMessageId: string | null }).clientMessageId ?? '')
    if (sent && sent.sentAt > stream.connectedAt) liveLatencies.push(receivedAt - sent.sentAt)
    if (stream.caughtUp && id >= stream.caughtUp.target) stream.caughtUp.done()
  }

  async function connect(stream: LogicalStream, user: User, path: string): Promise<SseStream> {
    const headers: Record<string, string> = { authorization: `Bearer ${user.token}` }
    const resuming = stream.lastId !== undefined
    if (resuming && Math.random() < 1 / 3) path += `?lastEventId=${stream.lastId}`
    else if (resuming) headers['last-event-id'] = String(stream.lastId)
    stats.requests++
    stats.streamsOpened++
    if (resuming) stats.resumes++
    else stream.firstSentAt = performance.now()
    const sse = await withTimeout(
      openSse({ port, path, headers, onMessage: (id, data, at) => deliver(stream, id, data, at) }),
      OPEN_TIMEOUT_MS,
      `open ${path}`,
    )
    // Taken after the 200 was seen, so a little late: that only makes "posted after it
    // connected" stricter about what counts.
    stream.connectedAt = performance.now()
    if (!resuming) stream.headersAt = stream.connectedAt
    return sse
  }

  /** The newest completed post of the stream's rooms that was sent after it first connected. */
  function drainTarget(stream: LogicalStream): number | undefined {
    let target: number | undefined
    for (const roomId of stream.rooms) {
      // Completion order follows id order within the posts in flight; the last few hold the newest.
      for (const p of donePosts.get(roomId)!.slice(-HTTP_CONCURRENCY)) {
        if (p.sentAt > stream.headersAt && (target === undefined || p.id! > target)) target = p.id
      }
    }
    return target
  }

  async function drain(stream: LogicalStream): Promise<void> {
    const target = drainTarget(stream)
    if (target === undefined || (stream.lastId ?? 0) >= target) return
    const { promise, resolve } = Promise.withResolvers<void>()
    stream.caughtUp = { target, done: resolve }
    const timer = setTimeout(() => {
      problems.add('stream did not catch up', `${stream.name}: last ${stream.lastId}, newest posted ${target}, after ${DRAIN_MS} ms`)
      resolve()
    }, DRAIN_MS)
    await promise
    clearTimeout(timer)
    stream.caughtUp = undefined
  }

  /** Logical streams of one kind for one user, one after another, until the load ends. */
  async function streamSlot(user: User, kind: 'user' | 'room'): Promise<void> {
    while (running) {
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
          problems.add('stream open failed', `${stream.name}: ${(error as Error).message}`)
          await delay(1000)
          break
        }
        const why = await Promise.race([
          sse.closed.then(() => 'server' as const),
          delay(random(1000, 12_000)).then(() => 'timer' as const),
          ended.then(() => 'end' as const),
        ])
        if (why === 'server') {
          // Ended by the server (a slow reader cut, a restart): resume, if there is an id to resume from.
          stats.serverCloses++
          if (stream.lastId === undefined || !running) break
          continue
        }
        if (why === 'timer' && resumesLeft > 0 && stream.lastId !== undefined) {
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

  return {
    stats,
    liveLatencies,
    postsById: postsById as ReadonlyMap<number, Post>,
    streams: streams as readonly StreamRecord[],
    get rooms() {
      return donePosts.size
    },
    setUp,

    /** Runs every user's slots and actions; `ended` resolving stops them; resolves once all have drained. */
    async run(users: User[], end: Promise<void>): Promise<void> {
      ended = end.then(() => {
        running = false
      })
      await Promise.all(users.flatMap((user) => [streamSlot(user, 'user'), streamSlot(user, 'room'), actions(user)]))
    },

    /** Every room's whole history, read back after the load: the truth streams are held to. */
    async readAllHistory(users: User[]): Promise<Map<number, number[]>> {
      const readers = new Map<number, User>()
      for (const user of users) for (const roomId of user.rooms) if (!readers.has(roomId)) readers.set(roomId, user)
      const history = new Map<number, number[]>()
      for (const [roomId, reader] of readers) {
        const ids: number[] = []
        for (let after = 0; ; ) {
          const { status, json } = await call('GET', `/api/chat/rooms/${roomId}/messages?afterId=${after}&limit=200`, reader.token)
          if (status !== 200) throw new Error(`history of room ${roomId} answered ${status}`)
          for (const m of json as { id: number }[]) ids.push(m.id)
          if (json.length < 200) break
          after = json[json.length - 1].id
        }
        history.set(roomId, ids)
      }
      return history
    },
  }
}
