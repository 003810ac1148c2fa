import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { eventually, type SseStream, type TestUser } from '../helpers'
import { type Cluster, expectedIds, isOnline, type PostLoad, seedRooms, startCluster, startPosting, untilReadiness, untilReceived } from '../support/cluster'
import { findRedisServer } from '../support/redis-server'

const hasRedis = findRedisServer() !== null
const SIZE = 3

describe.skipIf(!hasRedis)('scale-out: Redis dies during a stream of posts and comes back', () => {
  let cluster: Cluster
  let users: TestUser[]
  let rooms: number[]
  /** Posts until stopped: stopped here too, should the test end early. */
  let load: PostLoad | undefined

  beforeAll(async () => {
    cluster = await startCluster(SIZE)
    ;({ users, rooms } = await seedRooms(cluster, 6, 'outage'))
  }, 30_000)
  afterAll(async () => {
    await load?.stop()
    await cluster?.stop()
  })

  it('posts keep answering 201, /readyz goes 503 and back to 200, presence returns, and the same streams on every instance get every message once, in order', async () => {
    const subscribers: { stream: SseStream; scope: number[] }[] = []
    for (let i = 0; i < SIZE; i++) {
      const roomStream = await cluster.stream(i, users[i]!, `/api/chat/rooms/${rooms[0]}/subscribe`)
      const userStream = await cluster.stream(i, users[i + SIZE]!, '/api/chat/stream')
      subscribers.push({ stream: roomStream, scope: [rooms[0]!] }, { stream: userStream, scope: rooms })
    }
    const urls = cluster.servers.map((s) => s.url)
    load = startPosting({ urls, posters: users.map((user) => ({ user, roomIds: rooms })), label: 'outage' })

    await load.reached(60)
    await cluster.redis.kill('SIGKILL')
    const beforeOutage = load.posted.length
    await Promise.all(urls.map((url) => untilReadiness(url, 503)))
    // A good number of posts while every instance knows Redis is gone.
    await load.reached(load.posted.length + 150)

    await cluster.redis.restart()
    const backAt = performance.now()
    const untilBack = load.posted.slice()
    const missingAtReturn = subscribers.map(({ stream, scope }) => {
      const seen = new Set(stream.messageIds())
      return expectedIds(untilBack, scope).filter((id) => !seen.has(id)).length
    })
    const caughtUpMs = await Promise.all(
      subscribers.map(async ({ stream, scope }) => {
        await untilReceived(stream, expectedIds(untilBack, scope), 15_000, 'the messages posted before Redis came back')
        return performance.now() - backAt
      }),
    )
    await Promise.all(urls.map((url) => untilReadiness(url, 200)))
    const readyAfterMs = performance.now() - backAt
    // The restarted Redis has lost every presence claim: each instance announces its users again.
    for (let i = 0; i < SIZE; i++) {
      await eventually(() => isOnline(cluster.url(i + 1), users[(i + 1) % SIZE]!, users[i]!), 5_000, `user ${i} online again, seen from another instance`)
    }
    // Live traffic over Redis again, then the whole record is checked.
    await load.reached(load.posted.length + 60)
    await load.stop()

    expect(load.failures).toEqual([])
    for (const { stream, scope } of subscribers) {
      const expected = expectedIds(load.posted, scope)
      await untilReceived(stream, expected)
      expect(stream.messageIds()).toEqual(expected)
      // The very stream opened before the outage: no reconnect happened.
      expect(stream.closed).toBe(false)
    }
    console.log(
      `[scale-out] Redis outage: ${untilBack.length - beforeOutage} messages posted while it was down; streams missing messages at the return: ` +
        `${missingAtReturn.filter((n) => n > 0).length} of ${subscribers.length} (max ${Math.max(...missingAtReturn)} messages); ` +
        `catch-up after Redis came back: ${Math.round(Math.max(...caughtUpMs))} ms (slowest stream); /readyz 200 everywhere after ${Math.round(readyAfterMs)} ms`,
    )
  }, 40_000)
})
