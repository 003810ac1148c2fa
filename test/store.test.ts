import { describe, expect, it } from 'bun:test'
import { Database } from 'bun:sqlite'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { createSqliteStore } from '../src/store/sqlite'
import { MIGRATIONS } from '../src/store/migrations'
import { tempDir } from './helpers'

async function seeded() {
  const path = join(tempDir(), 'chat.db')
  const store = createSqliteStore(path)
  const user = (await store.createUser({ username: 'writer', displayName: 'Writer', passwordHash: 'x', now: 1 }))!
  const room = await store.createRoom({ name: 'r', visibility: 'private', ownerId: user.id, participantIds: [], now: 1 })
  return { path, store, user, room }
}

describe('the SQLite store', () => {
  it('commits each write at once: another connection sees the newest message', async () => {
    const { path, store, user, room } = await seeded()
    const { message } = await store.postMessage({ roomId: room.id, senderId: user.id, content: 'now', clientMessageId: null, replyToId: null, mentions: [], now: 2 })
    const other = new Database(path, { readonly: true })
    try {
      expect(other.query('SELECT content FROM messages WHERE id = ?').get(message.id)).toEqual({ content: 'now' })
      expect(other.query('SELECT count(*) AS n FROM users').get()).toEqual({ n: 1 })
    } finally {
      other.close()
      store.close()
    }
  })

  it('keeps the write-ahead log bounded under a stream of writes', async () => {
    const { path, store, user, room } = await seeded()
    const content = 'x'.repeat(500)
    for (let i = 0; i < 5000; i++) await store.postMessage({ roomId: room.id, senderId: user.id, content, clientMessageId: null, replyToId: null, mentions: [], now: i })
    // 5,000 x 500 bytes would be ~3 MB of pages per checkpoint interval if never reset
    expect(statSync(`${path}-wal`).size).toBeLessThan(8 * 1024 * 1024)
    store.close()
  })

  it('upgrades an older database in place', async () => {
    const path = join(tempDir(), 'chat.db')
    const old = new Database(path, { create: true })
    old.run(MIGRATIONS[0]!)
    old.run('PRAGMA user_version = 1')
    old.run(`INSERT INTO users (username, display_name, password_hash, created_at) VALUES ('old', 'Old', 'x', 1)`)
    old.close()
    const store = createSqliteStore(path)
    expect((await store.searchUsers('old', 10)).map((u) => u.username)).toEqual(['old'])
    store.close()
    const db = new Database(path, { readonly: true })
    expect(db.query('PRAGMA user_version').get()).toEqual({ user_version: MIGRATIONS.length })
    db.close()
  })
})

describe('group commit of posts', () => {
  it('commits concurrent posts together; one failing post fails alone', async () => {
    const { store, user, room } = await seeded()
    const post = (roomId: number, content: string) => store.postMessage({ roomId, senderId: user.id, content, clientMessageId: null, replyToId: null, mentions: [], now: 3 })
    const results = await Promise.allSettled([post(room.id, 'a'), post(987654, 'no such room'), post(room.id, 'c')])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled'])
    const [a, , c] = results as PromiseFulfilledResult<{ message: { id: number } }>[]
    expect(c!.value.message.id).toBeGreaterThan(a!.value.message.id)
    expect((await store.history({ roomId: room.id, limit: 10 })).map((m) => m.content)).toEqual(['a', 'c'])
    store.close()
  })
})
