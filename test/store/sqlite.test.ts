import { describe, expect, it } from 'bun:test'
import { Database } from 'bun:sqlite'
import { join } from 'node:path'
import { MIGRATIONS } from '../../src/store/migrations'
import { createSqliteStore } from '../../src/store/sqlite'
import { tempDir } from '../helpers'
import { runStoreContract } from './contract'

runStoreContract('sqlite', async () => {
  const store = createSqliteStore(join(tempDir(), 'chat.db'))
  return { store, cleanup: async () => store.close() }
})

describe('the SQLite store upgrading a database from before the event sequence', () => {
  it('keeps its messages and ids; new messages and events number after the highest id ever used', async () => {
    const path = join(tempDir(), 'chat.db')
    const old = new Database(path, { create: true })
    for (const step of MIGRATIONS.slice(0, 2)) old.run(step)
    old.run('PRAGMA user_version = 2')
    old.run(`INSERT INTO users (id, username, display_name, password_hash, created_at) VALUES (1, 'old', 'Old', 'x', 1)`)
    old.run(`INSERT INTO rooms (id, name, type, visibility, owner_id, created_at) VALUES (1, 'r', 'group', 'private', 1, 1)`)
    old.run(`INSERT INTO participants (room_id, user_id, joined_at) VALUES (1, 1, 1)`)
    for (const id of [3, 7, 9]) old.run(`INSERT INTO messages (id, room_id, sender_id, content, message_type, created_at) VALUES (${id}, 1, 1, 'm${id}', 'MESSAGE', 1)`)
    // The newest message was deleted before the upgrade: its id must not come back.
    old.run('DELETE FROM messages WHERE id = 9')
    old.close()

    const store = createSqliteStore(path)
    try {
      expect(await store.maxEventId()).toBe(9)
      const history = await store.history({ roomId: 1, limit: 10 })
      expect(history.map((m) => [m.id, m.content])).toEqual([[3, 'm3'], [7, 'm7']])
      expect(history[0]).toMatchObject({ editedAt: null, replyToId: null, mentions: [], reactions: [] })
      expect((await store.roomSummary(1, 1))!).toMatchObject({ notificationLevel: 'mentions', mentionCount: 0 })

      const { message } = await store.postMessage({ roomId: 1, senderId: 1, content: 'new', clientMessageId: null, replyToId: 7, mentions: [], now: 2 })
      expect(message.id).toBe(10)
      const edited = await store.editMessage({ roomId: 1, messageId: 3, content: 'm3 edited', mentions: [], now: 3 })
      expect(edited!.eventId).toBe(11)
      expect((await store.eventsAfter(0, 10)).map((e) => [e.kind, e.id])).toEqual([
        ['message', 3],
        ['message', 7],
        ['message', 10],
        ['message-updated', 11],
      ])
    } finally {
      store.close()
    }
    const db = new Database(path, { readonly: true })
    expect(db.query('PRAGMA user_version').get()).toEqual({ user_version: MIGRATIONS.length })
    db.close()
  })

  it('keeps the sequence ahead of rows written around the store (a bulk seed with explicit ids)', async () => {
    const path = join(tempDir(), 'chat.db')
    const store = createSqliteStore(path)
    const user = (await store.createUser({ username: 'u', displayName: 'U', passwordHash: 'x', now: 1 }))!
    const room = await store.createRoom({ name: 'r', visibility: 'private', ownerId: user.id, participantIds: [], now: 1 })
    const seed = new Database(path)
    seed.run(`INSERT INTO messages (id, room_id, sender_id, content, message_type, created_at) VALUES (500, ?, ?, 'seeded', 'MESSAGE', 1)`, [room.id, user.id])
    seed.close()
    try {
      const { message } = await store.postMessage({ roomId: room.id, senderId: user.id, content: 'after', clientMessageId: null, replyToId: null, mentions: [], now: 2 })
      expect(message.id).toBe(501)
    } finally {
      store.close()
    }
  })
})
