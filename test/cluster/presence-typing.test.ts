import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { call, createRoom, eventually, newUser, post, type TestUser } from '../helpers'
import { type Cluster, isOnline, startCluster } from '../support/cluster'
import { findRedisServer } from '../support/redis-server'

const hasRedis = findRedisServer() !== null
/** The contract: offline within 5 s of the user's last stream closing. */
const OFFLINE_AFTER_CLOSE_MS = 5_000

describe.skipIf(!hasRedis)('scale-out: presence and typing across instances', () => {
  let cluster: Cluster
  let alice: TestUser, bob: TestUser, carol: TestUser

  beforeAll(async () => {
    cluster = await startCluster(2)
    ;[alice, bob, carol] = await Promise.all([newUser(cluster.url(0), 'pt'), newUser(cluster.url(1), 'pt'), newUser(cluster.url(0), 'pt')])
  }, 30_000)
  afterAll(async () => {
    await cluster?.stop()
  })

  const stream = (...args: Parameters<Cluster['stream']>) => cluster.stream(...args)

  it('a user with a stream on one instance is online on the other, and offline there soon after the last stream closes', async () => {
    const [a, b] = [cluster.url(0), cluster.url(1)]
    expect(await isOnline(b, bob, alice)).toBe(false)

    const onA = await stream(0, alice, '/api/chat/stream')
    await eventually(() => isOnline(b, bob, alice), 5_000, 'alice online, seen from instance B')
    const onB = await stream(1, alice, '/api/chat/stream')
    onA.close()
    await onA.ended()
    // Still online through the stream on B, whichever instance is asked.
    expect(await isOnline(a, bob, alice)).toBe(true)
    expect(await isOnline(b, carol, alice)).toBe(true)

    onB.close()
    const closedAt = performance.now()
    await eventually(async () => !(await isOnline(a, bob, alice)), OFFLINE_AFTER_CLOSE_MS, 'alice offline, seen from instance A')
    expect(performance.now() - closedAt).toBeLessThan(OFFLINE_AFTER_CLOSE_MS)
  })

  it('typing posted on one instance reaches the room and user streams on the other, but not the typist', async () => {
    const room = await createRoom(cluster.url(0), alice, { participantIds: [bob.id, carol.id] })
    const bobRoom = await stream(1, bob, `/api/chat/rooms/${room.id}/subscribe`)
    const bobAll = await stream(1, bob, '/api/chat/stream')
    const carolRoom = await stream(0, carol, `/api/chat/rooms/${room.id}/subscribe`)
    const aliceAll = await stream(1, alice, '/api/chat/stream')

    const typed = await call(cluster.url(0), `/api/chat/rooms/${room.id}/typing`, { method: 'POST', token: alice.token })
    expect(typed.status).toBe(204)
    const typing = { roomId: room.id, userId: alice.id }
    expect((await bobRoom.next((e) => e.event === 'typing')).json).toEqual(typing)
    expect((await bobAll.next((e) => e.event === 'typing')).json).toEqual(typing)
    expect((await carolRoom.next((e) => e.event === 'typing')).json).toEqual(typing)

    // A message posted after the typing reaches alice's stream on B; her own typing never did.
    await post(cluster.url(0), bob, room.id, 'marker')
    await aliceAll.next((e) => e.event === 'message' && e.json.content === 'marker')
    expect(aliceAll.events.some((e) => e.event === 'typing')).toBe(false)
  })
})
