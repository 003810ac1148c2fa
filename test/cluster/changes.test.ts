import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { call, isAscendingUnique, post, type SseEvent, type SseStream, type TestUser } from '../helpers'
import { type Cluster, seedRooms, startCluster, untilReadiness } from '../support/cluster'
import { findRedisServer } from '../support/redis-server'

/**
 * Changes to messages travel the same path as messages between instances: an edit, a
 * reaction or a deletion made on one instance reaches streams on the others in sequence
 * order, with Redis up and across a Redis outage, and a stream resumed on another instance
 * replays the same sequence.
 */

const hasRedis = findRedisServer() !== null

describe.skipIf(!hasRedis)('scale-out: change events across instances', () => {
  let cluster: Cluster
  let alice: TestUser, bob: TestUser
  let room: number

  beforeAll(async () => {
    cluster = await startCluster(2)
    const seeded = await seedRooms(cluster, 2, 'changes')
    ;[alice, bob] = seeded.users as [TestUser, TestUser]
    room = seeded.rooms[0]!
  }, 30_000)
  afterAll(() => cluster?.stop())

  const at = (i: number) => cluster.url(i)
  const path = (messageId: number, tail = '') => `/api/chat/rooms/${room}/messages/${messageId}${tail}`
  const edit = async (i: number, messageId: number, content: string) =>
    expect((await call(at(i), path(messageId), { method: 'PATCH', token: alice.token, body: { content } })).status).toBe(200)
  const react = async (i: number, messageId: number, emoji: string) =>
    expect((await call(at(i), path(messageId, `/reactions/${encodeURIComponent(emoji)}`), { method: 'PUT', token: bob.token })).status).toBe(200)
  const remove = async (i: number, messageId: number) =>
    expect((await call(at(i), path(messageId), { method: 'DELETE', token: alice.token })).status).toBe(204)
  const sequence = (events: SseEvent[], after = 0) =>
    events
      .filter((e) => e.id !== undefined && Number(e.id) > after)
      .map((e) => `${e.event}:${e.event === 'message-deleted' ? e.json.messageId : e.json.id}`)
  const ids = (stream: SseStream) => stream.events.filter((e) => e.id !== undefined).map((e) => Number(e.id))

  /**
   * Changes of two messages made on both instances, ending with a marker message; `step` runs
   * after each write (a test that waits there for delivery makes the order of reads fixed).
   * `optional`: the events of the deleted message, which a pump that reads only after the
   * deletion rightly leaves out (a stream gets the message as it is when read).
   */
  async function changes(step: () => Promise<void> = async () => {}) {
    const m1 = await post(at(0), alice, room, 'one')
    await step()
    const m2 = await post(at(1), alice, room, 'two')
    await step()
    await edit(0, m1.id, 'one, edited')
    await step()
    await react(1, m2.id, '👍')
    await step()
    await remove(0, m2.id)
    await step()
    const marker = await post(at(0), alice, room, 'marker')
    const expected = [`message:${m1.id}`, `message:${m2.id}`, `message-updated:${m1.id}`, `message-updated:${m2.id}`, `message-deleted:${m2.id}`, `message:${marker.id}`]
    return { first: m1.id, marker: marker.id, expected, optional: new Set([expected[1]!, expected[3]!]) }
  }

  it('sends changes made on either instance to streams on both, in sequence order; a resume on the other instance replays them', async () => {
    const onOther = await cluster.stream(1, bob, '/api/chat/stream')
    const onSame = await cluster.stream(0, bob, `/api/chat/rooms/${room}/subscribe`)
    const streams = [onOther, onSame]
    // Each change reaches both streams before the next is made.
    const delivered = () => Promise.all(streams.map((s) => s.next((e) => e.id !== undefined, 10_000))).then(() => {})
    const { first, marker, expected } = await changes(delivered)
    for (const stream of streams) {
      await stream.next((e) => e.event === 'message' && e.json.id === marker, 10_000)
      expect(sequence(stream.events)).toEqual(expected)
      expect(isAscendingUnique(ids(stream))).toBe(true)
    }
    const resumed = await cluster.stream(1, bob, `/api/chat/rooms/${room}/subscribe`, { 'last-event-id': String(first - 1) })
    await resumed.next((e) => e.event === 'message' && e.json.id === marker, 10_000)
    // Replayed as things are now: the deleted message and its update are left out.
    expect(sequence(resumed.events)).toEqual([expected[0]!, expected[2]!, expected[4]!, expected[5]!])
  }, 30_000)

  it('delivers the changes made while Redis was down to the streams opened before, in order, without a reconnect', async () => {
    const stream = await cluster.stream(1, bob, '/api/chat/stream')
    await cluster.redis.kill('SIGKILL')
    await Promise.all([0, 1].map((i) => untilReadiness(at(i), 503)))
    const { first, marker, expected, optional } = await changes()
    await cluster.redis.restart()
    await stream.next((e) => e.event === 'message' && e.json.id === marker, 15_000)
    const received = sequence(stream.events, first - 1)
    expect(received.filter((e) => !optional.has(e))).toEqual(expected.filter((e) => !optional.has(e)))
    expect(received.every((e) => expected.includes(e))).toBe(true)
    expect(isAscendingUnique(ids(stream))).toBe(true)
    expect(stream.closed).toBe(false)
    await Promise.all([0, 1].map((i) => untilReadiness(at(i), 200)))
  }, 40_000)
})
