import { describe, expect, it } from 'bun:test'
import { SQL } from 'bun'
import { join } from 'node:path'
import { createPostgresStore } from '../../src/store/postgres'
import { createSqliteStore } from '../../src/store/sqlite'
import type { Store } from '../../src/store/store'
import { tempDir } from '../helpers'
import { createTestDatabase, skipWithoutPostgres } from '../support/postgres'
import { reusedDatabase } from '../support/postgres-reuse'
import { runIntegrationsContract } from './integrations-contract'

runIntegrationsContract('sqlite', async () => {
  const path = join(tempDir(), 'chat.db')
  const stores: Store[] = [createSqliteStore(path)]
  return {
    store: stores[0]!,
    async another() {
      const store = createSqliteStore(path)
      stores.push(store)
      return store
    },
    async cleanup() {
      for (const store of stores) await store.close()
    },
  }
})

if (!(await skipWithoutPostgres())) {
  const database = reusedDatabase('integrations')
  runIntegrationsContract('postgres', async () => {
    const url = await database.empty()
    const stores: Store[] = [await createPostgresStore({ url })]
    return {
      store: stores[0]!,
      async another() {
        const store = await createPostgresStore({ url })
        stores.push(store)
        return store
      },
      async cleanup() {
        for (const store of stores) await store.close()
      },
    }
  })
}

/**
 * PostgreSQL's search runs in two steps (schema/search.ts): the newest 20,000 ids (one room:
 * its newest 5,000 messages), then the index below them. A database of that size, seeded in
 * SQL, so both steps answer and their hits join in order.
 */
describe.skipIf(await skipWithoutPostgres())('PostgreSQL search past its first window', () => {
  it('finds hits on both sides of the window, newest first, once each; a word only in other rooms finds nothing', async () => {
    const database = await createTestDatabase('search_window')
    const store = await createPostgresStore({ url: database.url })
    const sql = new SQL(database.url, { max: 1 })
    try {
      const alice = (await store.createUser({ username: 'alice', displayName: 'A', passwordHash: 'x', now: 1 }))!
      const bob = (await store.createUser({ username: 'bob', displayName: 'B', passwordHash: 'x', now: 1 }))!
      const mine = await store.createRoom({ name: 'mine', visibility: 'private', ownerId: alice.id, participantIds: [], now: 1 })
      const theirs = await store.createRoom({ name: 'theirs', visibility: 'private', ownerId: bob.id, participantIds: [], now: 1 })
      const start = (await store.maxEventId()) + 1
      // alice's room holds the even ids
      const even = (id: number) => id + (id % 2)
      const old = [even(start + 100), even(start + 200)]
      const recent = even(start + 29_000)
      // 30,000 messages, alternating rooms; every 10th of bob's says 'hotword' (common, but not where alice is).
      await sql`
        INSERT INTO messages (id, room_id, sender_id, content, message_type, created_at)
        SELECT g, CASE WHEN g % 2 = 0 THEN ${mine.id}::int8 ELSE ${theirs.id}::int8 END, CASE WHEN g % 2 = 0 THEN ${alice.id}::int8 ELSE ${bob.id}::int8 END,
          CASE WHEN g = ANY(${[...old, recent]}::int8[]) THEN 'an oldword here' WHEN g % 20 = 1 THEN 'hotword' ELSE 'filler text' END, 'MESSAGE', g
        FROM generate_series(${start}::int8, ${start + 29_999}::int8) g`
      await sql`UPDATE event_sequence SET last_id = ${start + 29_999}`
      const ids = async (query: { roomId?: number; beforeId?: number; limit?: number }, text = 'oldword') =>
        (await store.searchMessages({ userId: alice.id, text, limit: 20, ...query })).map((m) => m.id)
      expect(await ids({})).toEqual([recent, old[1]!, old[0]!])
      expect(await ids({ roomId: mine.id })).toEqual([recent, old[1]!, old[0]!])
      expect(await ids({ limit: 2 })).toEqual([recent, old[1]!])
      expect(await ids({ beforeId: recent })).toEqual([old[1]!, old[0]!])
      expect(await ids({ roomId: mine.id, beforeId: old[1]! })).toEqual([old[0]!])
      expect(await ids({}, 'hotword')).toEqual([])
      expect((await ids({ roomId: theirs.id }, 'hotword')).length).toBe(20)
    } finally {
      await sql.close()
      await store.close()
      await database.drop()
    }
  })
})
