/**
 * Membership and session changes made on one instance while Redis is down: the bus drops the
 * events, so the resync after Redis returns (src/stream/hub.ts, `bus.onResync`) must reconcile
 * room streams and sessions with the store.
 */
import { describe, expect, it } from 'bun:test'
import { call, createRoom, newUser, openStream, type SseStream } from '../helpers'
import { type Cluster, startCluster, untilReadiness } from '../support/cluster'
import { findRedisServer } from '../support/redis-server'

const hasRedis = findRedisServer() !== null
const TIMEOUT_MS = 20_000

/** Runs `change` on instance A while Redis is down, then brings Redis back on both instances. */
async function duringOutage(cluster: Cluster, change: () => Promise<void>) {
  const urls = cluster.servers.map((s) => s.url)
  await cluster.redis.kill('SIGKILL')
  await Promise.all(urls.map((url) => untilReadiness(url, 503)))
  await change()
  await cluster.redis.restart()
  await Promise.all(urls.map((url) => untilReadiness(url, 200)))
}

/** A fresh 2-instance cluster per test: each one breaks Redis in its own way. */
async function withCluster(test: (cluster: Cluster, opened: SseStream[]) => Promise<void>) {
  const cluster = await startCluster(2)
  const opened: SseStream[] = []
  try {
    await test(cluster, opened)
  } finally {
    for (const stream of opened) stream.close()
    await cluster.stop()
  }
}

describe.skipIf(!hasRedis)('scale-out: changes made on another instance while Redis was down', () => {
  it('a room stream of a room deleted meanwhile gets room-deleted and ends', () =>
    withCluster(async (cluster, opened) => {
      const [alice, carol] = await Promise.all([newUser(cluster.url(0), 'lost'), newUser(cluster.url(1), 'lost')])
      const room = await createRoom(cluster.url(0), alice, { participantIds: [carol.id] })
      const stream = await openStream(cluster.url(1), `/api/chat/rooms/${room.id}/subscribe`, carol.token)
      opened.push(stream)
      await duringOutage(cluster, async () => {
        expect((await call(cluster.url(0), `/api/chat/rooms/${room.id}`, { method: 'DELETE', token: alice.token })).status).toBe(204)
      })
      await stream.next((e) => e.event === 'room-deleted')
      await stream.ended()
    }),
    TIMEOUT_MS,
  )

  it('a room stream of a room its user left meanwhile ends, and gets none of its later messages', () =>
    withCluster(async (cluster, opened) => {
      const [alice, carol] = await Promise.all([newUser(cluster.url(0), 'lost'), newUser(cluster.url(1), 'lost')])
      const room = await createRoom(cluster.url(0), alice, { participantIds: [carol.id] })
      const stream = await openStream(cluster.url(1), `/api/chat/rooms/${room.id}/subscribe`, carol.token)
      opened.push(stream)
      await duringOutage(cluster, async () => {
        expect((await call(cluster.url(0), `/api/chat/rooms/${room.id}/leave`, { method: 'POST', token: carol.token })).status).toBe(204)
      })
      await call(cluster.url(0), `/api/chat/rooms/${room.id}/messages`, { token: alice.token, body: { content: 'after carol left' } })
      await stream.ended()
      expect(stream.events.some((e) => e.event === 'message' && e.json.content === 'after carol left')).toBe(false)
    }),
    TIMEOUT_MS,
  )

  it('the streams of a session logged out meanwhile close', () =>
    withCluster(async (cluster, opened) => {
      const [alice, bob] = await Promise.all([newUser(cluster.url(0), 'lost'), newUser(cluster.url(1), 'lost')])
      const room = await createRoom(cluster.url(0), alice, { participantIds: [bob.id] })
      const userStream = await openStream(cluster.url(1), '/api/chat/stream', bob.token)
      const roomStream = await openStream(cluster.url(1), `/api/chat/rooms/${room.id}/subscribe`, bob.token)
      opened.push(userStream, roomStream)
      await duringOutage(cluster, async () => {
        expect((await call(cluster.url(0), '/api/auth/logout', { method: 'POST', token: bob.token })).status).toBe(204)
      })
      await Promise.all([userStream.ended(), roomStream.ended()])
    }),
    TIMEOUT_MS,
  )
})
