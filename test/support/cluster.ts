/**
 * Scale-out test support: N server processes sharing one SQLite file (with
 * CHAT_TEST_STORE=postgres: one new PostgreSQL database) and one private Redis, each on its own
 * port, started together as a deployment would start them; and a post load that spreads
 * messages over the instances round-robin from several concurrent posters.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { call, createRoom, eventually, newUser, openStream, type SseStream, type TestUser } from '../helpers'
import { serverDatabase } from './postgres'
import { startRedis, type TestRedis } from './redis-server'
import { spawnServer, type ServerProcess } from './server-process'

export interface Cluster {
  redis: TestRedis
  servers: ServerProcess[]
  dbPath: string
  /** The PostgreSQL database the instances share (CHAT_TEST_STORE=postgres); else undefined. */
  databaseUrl?: string
  /** The instance for the i-th request when requests go round-robin. */
  url(i: number): string
  /** Opens an SSE stream on instance i as `user`; stop() closes it. */
  stream(i: number, user: TestUser, path: string, headers?: Record<string, string>): Promise<SseStream>
  /** Closes the streams, SIGTERM to every instance still running, then Redis; removes the database. */
  stop(): Promise<void>
}

/** Starts Redis and `size` instances on one new database; resolves once every /readyz is 200. */
export async function startCluster(size: number, env: Record<string, string> = {}): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), 'chat-cluster-'))
  const dbPath = join(dir, 'chat.db')
  const database = env.DATABASE_URL === undefined ? await serverDatabase(dbPath) : undefined
  const shared: Record<string, string> = database ? { DATABASE_URL: database.url } : {}
  const redis = await startRedis().catch(async (error) => {
    await database?.release()
    throw error
  })
  const started = await Promise.allSettled(
    Array.from({ length: size }, () =>
      spawnServer({ dbPath, env: { ...shared, REDIS_URL: redis.url, RATE_LIMIT_MESSAGES_PER_MINUTE: '0', ...env } }),
    ),
  )
  const servers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []))
  const opened: SseStream[] = []
  const cluster: Cluster = {
    redis,
    servers,
    dbPath,
    databaseUrl: database?.url ?? env.DATABASE_URL,
    url: (i) => servers[i % servers.length]!.url,
    async stream(i, user, path, headers) {
      const stream = await openStream(cluster.url(i), path, user.token, headers)
      opened.push(stream)
      return stream
    },
    async stop() {
      for (const stream of opened) stream.close()
      await Promise.allSettled(servers.map((s) => s.stop('SIGTERM')))
      await redis.stop()
      rmSync(dir, { recursive: true, force: true })
      await database?.release()
    },
  }
  const failed = started.find((s) => s.status === 'rejected')
  if (failed) {
    await cluster.stop()
    throw failed.reason
  }
  await Promise.all(servers.map((s) => untilReadiness(s.url, 200)))
  return cluster
}

/**
 * `count` users registered round-robin over the instances, and two rooms created on instances
 * 0 and 1, both owned by the first user with the next `members` users in them.
 */
export async function seedRooms(cluster: Cluster, count: number, prefix: string, members = count - 1) {
  const users = await Promise.all(Array.from({ length: count }, (_, i) => newUser(cluster.url(i), prefix)))
  const [owner, ...others] = users as [TestUser, ...TestUser[]]
  const participantIds = others.slice(0, members).map((u) => u.id)
  const rooms = [
    (await createRoom(cluster.url(0), owner, { name: 'one', participantIds })).id,
    (await createRoom(cluster.url(1), owner, { name: 'two', participantIds })).id,
  ]
  return { users, rooms }
}

export const readiness = async (url: string) => (await fetch(url + '/readyz')).status

/** Readiness has no event to await: it is asked again until it answers `status`. */
export const untilReadiness = (url: string, status: 200 | 503, timeoutMs = 10_000) =>
  eventually(async () => (await readiness(url)) === status, timeoutMs, `${url}/readyz answering ${status}`)

/** Whether `user` is online, as the instance at `url` answers GET /api/chat/users. */
export async function isOnline(url: string, asker: TestUser, user: TestUser): Promise<boolean> {
  const res = await call(url, `/api/chat/users?q=${user.username}`, { token: asker.token })
  if (res.status !== 200) throw new Error(`GET /api/chat/users: ${res.status} ${JSON.stringify(res.body)}`)
  const found = (res.body as { id: number; online: boolean }[]).find((u) => u.id === user.id)
  if (!found) throw new Error(`user ${user.username} not listed`)
  return found.online
}

export interface Posted {
  id: number
  roomId: number
}

export interface PostLoad {
  /** Every message stored so far, in the order the answers came back. */
  readonly posted: Posted[]
  /** Every answer that was not 201 (or a request that failed), described. */
  readonly failures: string[]
  /** Resolves once `count` messages in all have been stored. */
  reached(count: number, timeoutMs?: number): Promise<void>
  /** Stops the posters after their requests in flight; resolves when they have. */
  stop(): Promise<void>
  /** Resolves when the posters are done (their `total` reached, or stopped). */
  readonly done: Promise<void>
}

export interface PostLoadOptions {
  /** Where the posts go, round-robin over every post of every poster. */
  urls: string[]
  /** One concurrent poster per entry, each cycling through its rooms. */
  posters: { user: TestUser; roomIds: number[] }[]
  /** Stop after this many messages in all; unset: post until stop(). */
  total?: number
  label?: string
}

/** Concurrent posters, each one request at a time, spreading their posts over the instances. */
export function startPosting({ urls, posters, total = Infinity, label = 'load' }: PostLoadOptions): PostLoad {
  const posted: Posted[] = []
  const failures: string[] = []
  const goals: { count: number; resolve: () => void }[] = []
  let started = 0
  let stopped = false

  function record(message: Posted) {
    posted.push(message)
    for (const goal of goals.filter((g) => posted.length >= g.count)) {
      goals.splice(goals.indexOf(goal), 1)
      goal.resolve()
    }
  }

  async function poster({ user, roomIds }: PostLoadOptions['posters'][number], index: number) {
    for (let k = 0; !stopped && started < total; k++) {
      const seq = started++
      const roomId = roomIds[k % roomIds.length]!
      const url = urls[seq % urls.length]!
      const content = `${label} ${index}.${k}`
      try {
        const res = await call(url, `/api/chat/rooms/${roomId}/messages`, { token: user.token, body: { content } })
        if (res.status === 201) record({ id: res.body.id, roomId })
        else failures.push(`${url}: ${res.status} ${JSON.stringify(res.body)}`)
      } catch (error) {
        failures.push(`${url}: ${String(error)}`)
      }
    }
  }

  const done = Promise.all(posters.map(poster)).then(() => {})
  return {
    posted,
    failures,
    done,
    reached(count, timeoutMs = 15_000) {
      if (posted.length >= count) return Promise.resolve()
      const { promise, resolve, reject } = Promise.withResolvers<void>()
      goals.push({ count, resolve })
      const timer = setTimeout(() => reject(new Error(`${posted.length} of ${count} messages posted after ${timeoutMs} ms; failures: ${failures.slice(0, 3).join('; ')}`)), timeoutMs)
      return promise.finally(() => clearTimeout(timer))
    },
    stop() {
      stopped = true
      return done
    },
  }
}

/** The ids a stream of `roomIds` must carry, once each, ascending. */
export const expectedIds = (posted: Posted[], roomIds: number[]) =>
  posted.filter((m) => roomIds.includes(m.roomId)).map((m) => m.id).sort((a, b) => a - b)

/** Resolves once `stream` has received every id in `ids` (duplicates and order are the caller's to check). */
export async function untilReceived(stream: SseStream, ids: number[], timeoutMs = 15_000, what = 'every message') {
  const missing = new Set(ids)
  let read = 0
  try {
    await stream.until((s) => {
      for (; read < s.events.length; read++) {
        const event = s.events[read]!
        if (event.event === 'message') missing.delete(Number(event.id))
      }
      return missing.size === 0
    }, timeoutMs, what)
  } catch (error) {
    throw new Error(`${(error as Error).message}: ${missing.size} of ${ids.length} missing, e.g. ${[...missing].slice(0, 5).join(', ')}`)
  }
}
