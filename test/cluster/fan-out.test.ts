import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { type SseStream, type TestUser } from '../helpers'
import { type Cluster, expectedIds, seedRooms, startCluster, startPosting, untilReceived } from '../support/cluster'
import { findRedisServer } from '../support/redis-server'

const hasRedis = findRedisServer() !== null

describe.skipIf(!hasRedis)('scale-out: messages across instances', () => {
  for (const size of [2, 3]) {
    describe(`${size} instances on one database and one Redis`, () => {
      let cluster: Cluster
      let users: TestUser[]
      let rooms: number[]

      beforeAll(async () => {
        cluster = await startCluster(size)
        ;({ users, rooms } = await seedRooms(cluster, 6, `fan${size}`))
      }, 30_000)
      afterAll(async () => {
        await cluster?.stop()
      })

      const stream = (...args: Parameters<Cluster['stream']>) => cluster.stream(...args)
      const roomStream = (instance: number, user: TestUser, roomId: number, query = '') =>
        stream(instance, user, `/api/chat/rooms/${roomId}/subscribe${query}`)
      const userStream = (instance: number, user: TestUser, headers?: Record<string, string>) =>
        stream(instance, user, '/api/chat/stream', headers)

      it('every room and user stream on every instance gets each message once, in id order', async () => {
        const subscribers: { stream: SseStream; scope: number[] }[] = []
        for (let i = 0; i < size; i++) {
          const user = users[i]!
          subscribers.push(
            { stream: await roomStream(i, user, rooms[0]!), scope: [rooms[0]!] },
            { stream: await roomStream(i, users[i + size]!, rooms[1]!), scope: [rooms[1]!] },
            { stream: await userStream(i, user), scope: rooms },
          )
        }
        const load = startPosting({ urls: cluster.servers.map((s) => s.url), posters: users.map((user) => ({ user, roomIds: rooms })), total: 300 })
        await load.done
        expect(load.failures).toEqual([])
        expect(load.posted).toHaveLength(300)

        for (const { stream, scope } of subscribers) {
          const expected = expectedIds(load.posted, scope)
          await untilReceived(stream, expected)
          expect(stream.messageIds()).toEqual(expected)
          stream.close()
        }
      })

      it('a user stream resumed on another instance with Last-Event-ID misses nothing and repeats nothing', async () => {
        const reader = users[0]!
        const first = await userStream(0, reader)
        const load = startPosting({ urls: cluster.servers.map((s) => s.url), posters: users.slice(1, 5).map((user) => ({ user, roomIds: rooms })), total: 200, label: 'resume-header' })
        await first.until((s) => s.messageIds().length >= 40, 10_000, '40 messages before the disconnect')
        first.close()
        await first.ended()
        const before = first.messageIds()

        // Messages keep coming while the client is away and while it catches up.
        const second = await userStream(1, reader, { 'last-event-id': String(before.at(-1)) })
        await load.done
        expect(load.failures).toEqual([])
        const expected = expectedIds(load.posted, rooms)
        await untilReceived(second, expected.filter((id) => id > before.at(-1)!))
        expect([...before, ...second.messageIds()]).toEqual(expected)
        second.close()
      })

      it('a room stream resumed on another instance with ?lastEventId= misses nothing and repeats nothing', async () => {
        const reader = users[5]!
        const room = rooms[0]!
        const first = await roomStream(size - 1, reader, room)
        const load = startPosting({ urls: cluster.servers.map((s) => s.url), posters: users.slice(0, 4).map((user) => ({ user, roomIds: rooms })), total: 200, label: 'resume-query' })
        await first.until((s) => s.messageIds().length >= 20, 10_000, '20 messages before the disconnect')
        first.close()
        await first.ended()
        const before = first.messageIds()

        const second = await roomStream(0, reader, room, `?lastEventId=${before.at(-1)}`)
        await load.done
        expect(load.failures).toEqual([])
        const expected = expectedIds(load.posted, [room])
        await untilReceived(second, expected.filter((id) => id > before.at(-1)!))
        expect([...before, ...second.messageIds()]).toEqual(expected)
        second.close()
      })
    })
  }
})
