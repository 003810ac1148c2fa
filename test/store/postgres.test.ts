import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { SQL } from 'bun'
import { createPostgresStore } from '../../src/store/postgres'
import { NotParticipantError, type Store, type StoredEvent, type UserRecord } from '../../src/store/store'
import { createTestDatabase, POSTGRES_ADMIN_URL, skipWithoutPostgres, type TestDatabase } from '../support/postgres'
import { reusedDatabase } from '../support/postgres-reuse'
import { runStoreContract } from './contract'

const noPostgres = await skipWithoutPostgres()

if (!noPostgres) {
  const database = reusedDatabase('contract')
  runStoreContract('postgres', async () => {
    const store = await createPostgresStore({ url: await database.empty() })
    return { store, cleanup: () => store.close() }
  })
}

/**
 * What SQLite got from its single writer and PostgreSQL must get from locks: several
 * instances (stores on one database, each with its own pool) writing at once.
 */
describe.skipIf(noPostgres)('the PostgreSQL store with several instances', () => {
  let database: TestDatabase
  let instances: Store[]
  let clock = 1_000
  const now = () => ++clock

  beforeEach(async () => {
    database = await createTestDatabase('instances')
    // A deadlock is broken (and the transaction retried) only after deadlock_timeout: made
    // long here so that one shows as a slow test.
    const admin = new SQL(POSTGRES_ADMIN_URL, { max: 1 })
    await admin.unsafe(`ALTER DATABASE "${database.name}" SET deadlock_timeout = '10s'`)
    await admin.close()
    instances = [await createPostgresStore({ url: database.url }), await createPostgresStore({ url: database.url })]
  })
  afterEach(async () => {
    await Promise.all(instances.map((store) => store.close()))
    await database.drop()
  })

  let users = 0
  const user = async (): Promise<UserRecord> =>
    (await instances[0]!.createUser({ username: `user${++users}`, displayName: `User ${users}`, passwordHash: 'x', now: now() }))!
  const post = (store: Store, roomId: number, sender: UserRecord, content: string, clientMessageId: string | null = null) =>
    store.postMessage({ roomId, senderId: sender.id, content, clientMessageId, replyToId: null, mentions: [], now: now() })

  it('keeps ids in commit order across instances: a reader polling id > cursor misses nothing', async () => {
    const writers: UserRecord[] = []
    for (let i = 0; i < 8; i++) writers.push(await user())
    const room = await instances[0]!.createRoom({ name: 'r', visibility: 'private', ownerId: writers[0]!.id, participantIds: writers.map((w) => w.id), now: now() })
    const start = await instances[0]!.maxEventId()
    const written: number[] = []
    const write = async (writer: UserRecord, w: number) => {
      const store = instances[w % 2]!
      for (let k = 0; k < 30; k++) {
        await Bun.sleep(Math.random() * 2)
        const { message } = await post(store, room.id, writer, `w${w} m${k}`)
        written.push(message.id)
        if (k % 4 === 0) written.push((await store.setReaction({ roomId: room.id, messageId: message.id, userId: writer.id, emoji: '👀', on: true, now: now() }))!.eventId!)
      }
    }
    let writing = true
    const reader = (async () => {
      const seen: number[] = []
      for (let cursor = start; ; ) {
        const finished = !writing
        const page: StoredEvent[] = await instances[1]!.eventsAfter(cursor, 5)
        seen.push(...page.map((e) => e.id))
        if (page.length > 0) cursor = page.at(-1)!.id
        else if (finished) return seen
        else await Bun.sleep(Math.random())
      }
    })()
    await Promise.all(writers.map(write))
    writing = false
    expect(await reader).toEqual(written.sort((a, b) => a - b))
  })

  it('stores a clientMessageId once when two instances post it at the same time', async () => {
    const alice = await user()
    const room = await instances[0]!.createRoom({ name: 'r', visibility: 'private', ownerId: alice.id, participantIds: [], now: now() })
    for (let round = 0; round < 10; round++) {
      const results = await Promise.all(instances.map((store) => post(store, room.id, alice, 'once', `c${round}`)))
      expect(results.filter((r) => r.created)).toHaveLength(1)
      expect(results[0]!.message).toEqual(results[1]!.message)
    }
    expect(await instances[0]!.history({ roomId: room.id, limit: 100 })).toHaveLength(10)
  })

  it('refuses text PostgreSQL cannot store (NUL) as bad input, alone in its batch', async () => {
    const alice = await user()
    const room = await instances[0]!.createRoom({ name: 'r', visibility: 'private', ownerId: alice.id, participantIds: [], now: now() })
    const [before, bad, after] = await Promise.allSettled([
      post(instances[0]!, room.id, alice, 'fine'),
      post(instances[0]!, room.id, alice, 'nul \u0000 inside'),
      post(instances[0]!, room.id, alice, 'fine too'),
    ])
    expect(bad.status).toBe('rejected')
    expect((bad as PromiseRejectedResult).reason).toMatchObject({ status: 400 })
    expect([before.status, after.status]).toEqual(['fulfilled', 'fulfilled'])
    expect((await instances[0]!.history({ roomId: room.id, limit: 10 })).map((m) => m.content)).toEqual(['fine', 'fine too'])
    const { message } = (before as PromiseFulfilledResult<Awaited<ReturnType<Store['postMessage']>>>).value
    await expect(instances[0]!.editMessage({ roomId: room.id, messageId: message.id, content: '\u0000', mentions: [], now: now() })).rejects.toMatchObject({ status: 400 })
    await expect(instances[0]!.createRoom({ name: 'a\u0000b', visibility: 'private', ownerId: alice.id, participantIds: [], now: now() })).rejects.toMatchObject({ status: 400 })
  })

  it('gives a pair one direct room when both instances create it at once', async () => {
    const [alice, bob] = [await user(), await user()]
    const [a, b] = await Promise.all([
      instances[0]!.ensureDirectRoom(alice.id, bob.id, 'd', now()),
      instances[1]!.ensureDirectRoom(bob.id, alice.id, 'd', now()),
    ])
    expect(a.room.id).toBe(b.room.id)
    expect([a.created, b.created].sort()).toEqual([false, true])
    expect((await instances[0]!.participantsOf([a.room.id])).get(a.room.id)!.map((u) => u.id)).toEqual([alice.id, bob.id])
  })

  it('stores nothing of a post that loses a race with a leave; one that wins is before the LEAVE', async () => {
    const [alice, bob] = [await user(), await user()]
    for (let round = 0; round < 8; round++) {
      const room = await instances[0]!.createRoom({ name: 'r', visibility: 'private', ownerId: alice.id, participantIds: [bob.id], now: now() })
      const [posted, left] = await Promise.allSettled([post(instances[0]!, room.id, bob, 'racing'), instances[1]!.removeParticipant(room.id, bob.id, now())])
      expect(left.status).toBe('fulfilled')
      const leave = (left as PromiseFulfilledResult<Awaited<ReturnType<Store['removeParticipant']>>>).value!
      const history = await instances[0]!.history({ roomId: room.id, limit: 10 })
      if (posted.status === 'fulfilled') {
        expect(posted.value.message.id).toBeLessThan(leave.id)
        expect(history.map((m) => m.messageType)).toEqual(['MESSAGE', 'LEAVE'])
      } else {
        expect(posted.reason).toBeInstanceOf(NotParticipantError)
        expect(history.map((m) => m.messageType)).toEqual(['LEAVE'])
      }
    }
  })

  it('deletes a room while posts to it are in flight on both instances: no deadlock, nothing left', async () => {
    const [alice, bob] = [await user(), await user()]
    const room = await instances[0]!.createRoom({ name: 'r', visibility: 'private', ownerId: alice.id, participantIds: [bob.id], now: now() })
    const started = performance.now()
    const posts = Array.from({ length: 40 }, (_, i) => post(instances[i % 2]!, room.id, i % 3 ? alice : bob, `m${i}`))
    await Bun.sleep(1)
    await instances[1]!.deleteRoom(room.id)
    const outcomes = await Promise.allSettled(posts)
    for (const outcome of outcomes) if (outcome.status === 'rejected') expect(outcome.reason).toBeInstanceOf(NotParticipantError)
    expect(performance.now() - started).toBeLessThan(5_000)
    expect(await instances[0]!.history({ roomId: room.id, limit: 100 })).toEqual([])
    expect(await instances[0]!.getRoomFor(room.id, alice.id)).toBeNull()
  })
})
