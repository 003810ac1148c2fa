/**
 * Convergence (API.md, Streams): a client that applies every event of its stream in order
 * (`message`: add or replace by id; `message-updated`: replace; `message-deleted`: remove) ends
 * holding exactly each room's history, however posts, edits, deletes and reaction changes by
 * several users in several rooms interleave, and however often its stream is dropped and
 * resumed from its Last-Event-ID. Event ids on a user's streams, taken one after the other,
 * strictly ascend. fast-check generates the interleavings; a failure prints its seed and its
 * counterexample as found (not shrunk: every replay costs a round against the servers).
 *
 * Run in-process, and on two instances sharing one SQLite file and a Redis that is restarted
 * once in the middle, with requests and resumes spread over both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import fc from 'fast-check'
import { call, createRoom, newUser, openStream, startServer, type SseEvent, type SseStream, type TestServer, type TestUser } from './helpers'
import { startCluster, type Cluster } from './support/cluster'
import { findRedisServer } from './support/redis-server'

/** Users 0..2; user 0 owns every room. Rooms: all three, users 0+1, users 0+2. */
const MEMBERS = [[0, 1, 2], [0, 1], [0, 2]] as const
const EMOJI = ['👍', '🎉', '+1'] as const

type Op =
  | { kind: 'post'; user: number; room: number; reply: boolean; mention: number | null; at: number; together: boolean }
  | { kind: 'edit'; pick: number; mention: number | null; at: number; together: boolean }
  | { kind: 'delete'; pick: number; byOwner: boolean; at: number; together: boolean }
  | { kind: 'react'; pick: number; user: number; emoji: number; on: boolean; at: number; together: boolean }
  | { kind: 'drop'; user: number; at: number; together: boolean }

const common = { at: fc.nat(1), together: fc.boolean() }
const mention = fc.option(fc.nat(2), { freq: 3 })
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('post' as const), user: fc.nat(2), room: fc.nat(2), reply: fc.boolean(), mention, ...common }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('edit' as const), pick: fc.nat(), mention, ...common }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat(), byOwner: fc.boolean(), ...common }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('react' as const), pick: fc.nat(), user: fc.nat(2), emoji: fc.nat(2), on: fc.boolean(), ...common }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('drop' as const), user: fc.nat(2), ...common }) },
)

interface World {
  users: TestUser[]
  /** The instance for a request or a stream (one URL in-process). */
  url(at: number): string
  /** Called once, halfway through the middle run (the Redis restart). */
  midway?: () => Promise<void>
}

interface Posted {
  id: number
  roomId: number
  senderId: number
}

/** One user's client: its streams in the order opened, and the rooms as it holds them. */
class Client {
  readonly rooms = new Map<number, Map<number, any>>()
  readonly streams: SseStream[] = []
  readonly ids: number[] = []
  readonly problems: string[] = []
  private applied = 0

  constructor(
    readonly user: TestUser,
    roomIds: number[],
  ) {
    for (const id of roomIds) this.rooms.set(id, new Map())
  }

  get stream(): SseStream {
    return this.streams.at(-1)!
  }

  /** Applies the current stream's events not applied yet, as API.md says a client does. */
  apply() {
    const events = this.stream.events
    for (; this.applied < events.length; this.applied++) this.applyOne(events[this.applied]!)
  }

  private applyOne(e: SseEvent) {
    if (e.id !== undefined) this.ids.push(Number(e.id))
    const room = this.rooms.get(e.json?.roomId)
    // Events of rooms from earlier runs (the user's streams see every room of theirs).
    if (!room) return
    if (e.event === 'message') room.set(e.json.id, e.json)
    else if (e.event === 'message-updated') {
      if (!room.has(e.json.id)) this.problems.push(`message-updated #${e.id} for message ${e.json.id}, which the client never had`)
      room.set(e.json.id, e.json)
    } else if (e.event === 'message-deleted') room.delete(e.json.messageId)
  }

  async open(url: string) {
    const last = this.ids.at(-1)
    const stream = await openStream(url, '/api/chat/stream', this.user.token, last === undefined ? {} : { 'last-event-id': String(last) })
    this.streams.push(stream)
    this.applied = 0
  }

  /** Drops the stream (after everything it had received), then resumes it from its last event id. */
  async drop(url: string) {
    this.stream.close()
    await this.stream.ended()
    this.apply()
    await this.open(url)
  }
}

/** Runs one generated scenario against a world and checks convergence; returns what it did. */
async function runScenario(world: World, ops: Op[], midway?: () => Promise<void>): Promise<{ operations: number; drops: number }> {
  const { users } = world
  const owner = users[0]!
  const roomIds: number[] = []
  for (const members of MEMBERS) {
    roomIds.push((await createRoom(world.url(0), owner, { participantIds: members.slice(1).map((m) => users[m]!.id) })).id)
  }
  const membersOf = (roomId: number) => MEMBERS[roomIds.indexOf(roomId)]!.map((m) => users[m]!)
  const clients = users.map((u, i) => new Client(u, roomIds.filter((_, r) => (MEMBERS[r] as readonly number[]).includes(i))))
  for (const [i, client] of clients.entries()) await client.open(world.url(i))
  // A first event on every stream, so that each has a Last-Event-ID to resume from before the
  // operations start (a client that has received nothing yet would reload history instead).
  const baseline = (await call(world.url(0), `/api/chat/rooms/${roomIds[0]}/messages`, { token: owner.token, body: { content: 'baseline' } })).body.id
  for (const client of clients) {
    await client.stream.next((e) => e.event === 'message' && Number(e.id) === baseline)
    client.apply()
  }

  const living: Posted[] = []
  const unexpected: string[] = []
  let operations = 0
  let drops = 0
  let posts = 0

  const expect2xx = (what: string, res: { status: number; body: any }, allowed: number[] = []) => {
    if (res.status >= 200 && res.status < 300) return true
    // A concurrent delete may take the target first (404), or the original of a reply (400).
    if (!allowed.includes(res.status)) unexpected.push(`${what}: ${res.status} ${JSON.stringify(res.body)}`)
    return false
  }
  const contentFor = (text: string, m: number | null, roomId: number) => {
    const members = membersOf(roomId)
    return m === null ? text : `${text} @${members[m % members.length]!.username},`
  }

  async function run(op: Op) {
    const url = world.url(op.at)
    const target = living.length === 0 ? undefined : living[(op as { pick?: number }).pick! % living.length]
    switch (op.kind) {
      case 'post': {
        const roomId = roomIds[op.room]!
        const members = membersOf(roomId)
        const sender = members[op.user % members.length]!
        const replyTo = op.reply ? living.filter((m) => m.roomId === roomId).at(-1) : undefined
        const body = { content: contentFor(`post ${++posts}`, op.mention, roomId), replyToId: replyTo?.id }
        const res = await call(url, `/api/chat/rooms/${roomId}/messages`, { token: sender.token, body })
        if (expect2xx('post', res, [400])) living.push({ id: res.body.id, roomId, senderId: sender.id })
        return
      }
      case 'edit': {
        if (!target) return
        const sender = users.find((u) => u.id === target.senderId)!
        const res = await call(url, `/api/chat/rooms/${target.roomId}/messages/${target.id}`, {
          method: 'PATCH',
          token: sender.token,
          body: { content: contentFor(`edited ${Math.random().toString(36).slice(2, 6)}`, op.mention, target.roomId) },
        })
        expect2xx('edit', res, [404])
        return
      }
      case 'delete': {
        if (!target) return
        const by = op.byOwner ? owner : users.find((u) => u.id === target.senderId)!
        const res = await call(url, `/api/chat/rooms/${target.roomId}/messages/${target.id}`, { method: 'DELETE', token: by.token })
        if (expect2xx('delete', res, [404])) living.splice(living.indexOf(target), 1)
        return
      }
      case 'react': {
        if (!target) return
        const members = membersOf(target.roomId)
        const user = members[op.user % members.length]!
        const path = `/api/chat/rooms/${target.roomId}/messages/${target.id}/reactions/${encodeURIComponent(EMOJI[op.emoji]!)}`
        expect2xx('react', await call(url, path, { method: op.on ? 'PUT' : 'DELETE', token: user.token }), [404])
        return
      }
      case 'drop': {
        drops++
        await clients[op.user]!.drop(url)
        return
      }
    }
  }

  // Consecutive operations marked `together` run concurrently (up to four at a time).
  const batches: Op[][] = []
  for (const op of ops) {
    const last = batches.at(-1)
    if (last && op.together && last.length < 4) last.push(op)
    else batches.push([op])
  }
  const half = Math.floor(batches.length / 2)
  for (const [b, batch] of batches.entries()) {
    if (b === half && midway) await midway()
    await Promise.all(batch.map(run))
    operations += batch.length
    for (const client of clients) client.apply()
  }

  // A sentinel per room, posted last: once a client's stream has every sentinel of its rooms,
  // it has every earlier event of them (a stream sends ascending ids with no gap).
  const sentinels = new Map<number, number>()
  for (const roomId of roomIds) sentinels.set(roomId, (await call(world.url(roomId), `/api/chat/rooms/${roomId}/messages`, { token: owner.token, body: { content: 'sentinel' } })).body.id)
  for (const client of clients) {
    const wanted = [...client.rooms.keys()].map((roomId) => sentinels.get(roomId)!)
    await client.stream.until((s) => wanted.every((id) => s.events.some((e) => e.event === 'message' && Number(e.id) === id)), 15_000, `${client.user.username} receiving the sentinels`)
    client.apply()
  }

  expect(unexpected).toEqual([])
  for (const client of clients) {
    expect(client.problems).toEqual([])
    expect(client.ids.every((id, i) => i === 0 || id > client.ids[i - 1]!)).toBe(true)
    for (const [roomId, held] of client.rooms) {
      const res = await call(world.url(0), `/api/chat/rooms/${roomId}/messages?limit=200`, { token: client.user.token })
      expect(res.status).toBe(200)
      expect([...held.values()].sort((a, b) => a.id - b.id)).toEqual(res.body)
    }
    for (const stream of client.streams) stream.close()
  }
  return { operations, drops }
}

/** Drives fast-check over a world and reports the size of what ran. */
async function check(world: World, numRuns: number, maxOps: number, label: string) {
  const total = { runs: 0, operations: 0, drops: 0, midway: 0 }
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { minLength: Math.floor(maxOps / 4), maxLength: maxOps }), async (ops) => {
      const middle = world.midway && total.runs === Math.floor(numRuns / 2) && total.midway === 0
      const done = await runScenario(world, ops, middle ? async () => (total.midway++, await world.midway!()) : undefined)
      total.runs++
      total.operations += done.operations
      total.drops += done.drops
    }),
    { numRuns, endOnFailure: true },
  )
  console.log(`convergence ${label}: ${total.runs} runs, ${total.operations} operations, ${total.drops} stream drops, ${total.midway} Redis restarts`)
  return total
}

describe('convergence in-process', () => {
  let server: TestServer
  let users: TestUser[]
  beforeAll(async () => {
    server = await startServer()
    users = [await newUser(server.url, 'conv'), await newUser(server.url, 'conv'), await newUser(server.url, 'conv')]
  })
  afterAll(() => server.stop())

  it('every client ends holding every room\'s history; event ids strictly ascend', async () => {
    await check({ users, url: () => server.url }, 40, 200, 'in-process')
  }, 60_000)
})

describe.skipIf(!findRedisServer())('convergence on 2 instances with Redis', () => {
  let cluster: Cluster
  let users: TestUser[]
  beforeAll(async () => {
    cluster = await startCluster(2)
    users = [await newUser(cluster.url(0), 'convr'), await newUser(cluster.url(1), 'convr'), await newUser(cluster.url(0), 'convr')]
  }, 60_000)
  afterAll(() => cluster.stop())

  it('converges with requests and resumes spread over both and one Redis restart midway', async () => {
    const total = await check({ users, url: (at) => cluster.url(at), midway: () => cluster.redis.restart() }, 20, 200, '2 instances + Redis')
    expect(total.midway).toBe(1)
  }, 60_000)
})
