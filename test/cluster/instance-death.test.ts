import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { eventually, type TestUser } from '../helpers'
import { type Cluster, expectedIds, isOnline, seedRooms, startCluster, startPosting, untilReceived } from '../support/cluster'
import { findRedisServer } from '../support/redis-server'

const hasRedis = findRedisServer() !== null
/** The contract: a dead instance's users are offline within 30 s. */
const PRESENCE_EXPIRY_MS = 30_000

describe.skipIf(!hasRedis)('scale-out: an instance dies (SIGKILL)', () => {
  let cluster: Cluster
  let users: TestUser[]
  let rooms: number[]

  beforeAll(async () => {
    cluster = await startCluster(3)
    // users[6] is in no room: it only holds a stream, so only presence keeps it online.
    ;({ users, rooms } = await seedRooms(cluster, 7, 'death', 5))
  }, 30_000)
  afterAll(async () => {
    await cluster?.stop()
  })

  const stream = (...args: Parameters<Cluster['stream']>) => cluster.stream(...args)

  it('its clients resume on other instances losing nothing, and its users go offline within the presence expiry', async () => {
    const [asker, tabUser, roomUser, ghost] = [users[0]!, users[4]!, users[5]!, users[6]!]
    const victim = cluster.servers[2]!
    const survivors = cluster.servers.slice(0, 2).map((s) => s.url)
    const userTab = await stream(2, tabUser, '/api/chat/stream')
    const roomTab = await stream(2, roomUser, `/api/chat/rooms/${rooms[0]}/subscribe`)
    const ghostTab = await stream(2, ghost, '/api/chat/stream')
    const bystander = await stream(0, users[1]!, '/api/chat/stream')
    await eventually(() => isOnline(survivors[0]!, asker, ghost), 5_000, 'the ghost online, seen from instance 0')

    const load = startPosting({ urls: survivors, posters: users.slice(0, 4).map((user) => ({ user, roomIds: rooms })), total: 300, label: 'death' })
    await userTab.until((s) => s.messageIds().length >= 40, 10_000, '40 messages on the user stream')
    await roomTab.until((s) => s.messageIds().length >= 20, 10_000, '20 messages on the room stream')
    await victim.stop('SIGKILL')
    const killedAt = performance.now()
    await Promise.all([userTab.ended(), roomTab.ended(), ghostTab.ended()])
    // Presence has no event to await; asked while the resumes below run.
    const offlineAfterMs = eventually(async () => !(await isOnline(survivors[0]!, asker, ghost)), PRESENCE_EXPIRY_MS + 2_000, 'the ghost offline').then(
      () => performance.now() - killedAt,
    )
    // Awaited at the end; this only keeps an earlier failure from leaving its rejection unhandled.
    offlineAfterMs.catch(() => {})

    const lastUserId = userTab.messageIds().at(-1)!
    const lastRoomId = roomTab.messageIds().at(-1)!
    const userTab2 = await stream(0, tabUser, '/api/chat/stream', { 'last-event-id': String(lastUserId) })
    const roomTab2 = await stream(1, roomUser, `/api/chat/rooms/${rooms[0]}/subscribe?lastEventId=${lastRoomId}`)
    await load.done
    expect(load.failures).toEqual([])

    const all = expectedIds(load.posted, rooms)
    const inRoom = expectedIds(load.posted, [rooms[0]!])
    await untilReceived(userTab2, all.filter((id) => id > lastUserId))
    await untilReceived(roomTab2, inRoom.filter((id) => id > lastRoomId))
    await untilReceived(bystander, all)
    expect([...userTab.messageIds(), ...userTab2.messageIds()]).toEqual(all)
    expect([...roomTab.messageIds(), ...roomTab2.messageIds()]).toEqual(inRoom)
    expect(bystander.messageIds()).toEqual(all)

    const expiry = await offlineAfterMs
    expect(await isOnline(survivors[1]!, asker, ghost)).toBe(false)
    // The resumed users are online again through their new streams.
    expect(await isOnline(survivors[1]!, asker, tabUser)).toBe(true)
    expect(expiry).toBeLessThan(PRESENCE_EXPIRY_MS)
    console.log(`[scale-out] a SIGKILLed instance's user showed offline ${(expiry / 1000).toFixed(1)} s after the kill (contract: < 30 s)`)
  }, PRESENCE_EXPIRY_MS + 15_000)
})
