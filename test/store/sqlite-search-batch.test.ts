import { describe, expect, it } from 'bun:test'
import { Database } from 'bun:sqlite'
import { join } from 'node:path'
import { NotParticipantError } from '../../src/store/store'
import { createSqliteStore } from '../../src/store/sqlite'
import { tempDir } from '../helpers'

// Migration 8: a batch of posts indexes its messages in one statement before it commits; the
// insert trigger indexes every other writer's rows.
describe('search indexing of a batch of posts', () => {
  it('indexes every message of one batch, leaves out the refused one, and keeps the trigger for writers around the store', async () => {
    const path = join(tempDir(), 'chat.db')
    const store = createSqliteStore(path)
    try {
      const a = (await store.createUser({ username: 'a', displayName: 'A', passwordHash: 'x', now: 1 }))!
      const b = (await store.createUser({ username: 'b', displayName: 'B', passwordHash: 'x', now: 1 }))!
      const room = await store.createRoom({ name: 'r', visibility: 'private', ownerId: a.id, participantIds: [], now: 1 })
      const post = (senderId: number, content: string) =>
        store.postMessage({ roomId: room.id, senderId, content, clientMessageId: null, replyToId: null, mentions: [], now: 2 })

      // Requested in one turn of the event loop: one transaction (group commit).
      const results = await Promise.allSettled([post(a.id, 'alpha one'), post(b.id, 'alpha refused'), post(a.id, 'alpha two'), post(a.id, 'beta')])
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled'])
      expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(NotParticipantError)

      // newest first
      const search = (text: string) => store.searchMessages({ userId: a.id, roomId: room.id, text, limit: 10 })
      expect((await search('alpha')).map((m) => m.content)).toEqual(['alpha two', 'alpha one'])
      expect((await search('beta')).map((m) => m.content)).toEqual(['beta'])
      expect(await search('refused')).toEqual([])

      const seed = new Database(path)
      try {
        expect(seed.query('SELECT count(*) AS n FROM search_deferral').get()).toEqual({ n: 0 })
        seed.run(`INSERT INTO messages (room_id, sender_id, content, message_type, created_at) VALUES (?, ?, 'gamma seeded', 'MESSAGE', 3)`, [room.id, a.id])
      } finally {
        seed.close()
      }
      expect((await search('gamma')).map((m) => m.content)).toEqual(['gamma seeded'])
      await post(a.id, 'gamma posted')
      expect((await search('gamma')).map((m) => m.content)).toEqual(['gamma posted', 'gamma seeded'])
    } finally {
      store.close()
    }
  })
})
