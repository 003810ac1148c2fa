/**
 * The search backlog of an upgraded database, against the store in-process: the messages it
 * had are indexed by batches, newest first, and an edit or a deletion that reaches one of them
 * before its batch does is what the batch reads (never indexed twice, never its old words).
 */
import { Database } from 'bun:sqlite'
import { afterEach, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { MIGRATIONS } from '../src/store/migrations'
import { createSqliteStore } from '../src/store/sqlite'
import type { Store } from '../src/store/store'
import { tempDir } from './helpers'

const OLD_MESSAGES = 50
let store: Store | undefined
afterEach(() => store?.close())

/** A database as issue 10 left it (schema 4) with OLD_MESSAGES messages in room 1, then opened by this server. */
function upgraded(): Store {
  const path = join(tempDir(), 'old.db')
  const db = new Database(path, { create: true, strict: true })
  for (const step of MIGRATIONS.slice(0, 4)) db.run(step)
  db.run('PRAGMA user_version = 4')
  db.run(`INSERT INTO users (id, username, display_name, password_hash, created_at) VALUES (1, 'elder', 'elder', 'x', 0)`)
  db.run(`INSERT INTO rooms (id, name, type, visibility, owner_id, created_at) VALUES (1, 'archive', 'group', 'public', 1, 0)`)
  db.run(`INSERT INTO participants (room_id, user_id, joined_at) VALUES (1, 1, 0)`)
  const insert = db.query(`INSERT INTO messages (id, room_id, sender_id, content, message_type, created_at) VALUES (?, 1, 1, ?, 'MESSAGE', 0)`)
  for (let id = 1; id <= OLD_MESSAGES; id++) insert.run(id, `archived note ${id}`)
  db.close()
  return (store = createSqliteStore(path))
}

const found = async (text: string) => (await store!.searchMessages({ userId: 1, text, limit: 100 })).map((m) => m.id)

describe('search backlog', () => {
  it('indexes the old messages by batches, newest first, then says it is done', async () => {
    upgraded()
    expect(await found('archived')).toEqual([])
    expect(await store!.indexSearchBacklog(20)).toEqual({ indexed: 20, done: false })
    expect(await found('archived')).toEqual(Array.from({ length: 20 }, (_, i) => OLD_MESSAGES - i))
    expect(await store!.indexSearchBacklog(20)).toEqual({ indexed: 20, done: false })
    expect(await store!.indexSearchBacklog(20)).toEqual({ indexed: 10, done: true })
    expect(await store!.indexSearchBacklog(20)).toEqual({ indexed: 0, done: true })
    expect((await found('archived')).length).toBe(OLD_MESSAGES)
  })

  it('indexes new messages at once, while the old ones wait', async () => {
    upgraded()
    const { message } = await store!.postMessage({ roomId: 1, senderId: 1, content: 'archived fresh news', clientMessageId: null, replyToId: null, mentions: [], now: 1 })
    expect(await found('fresh')).toEqual([message.id])
    expect(await found('archived')).toEqual([message.id])
  })

  it('reads an old message as it is when its batch comes: edited or deleted before it', async () => {
    upgraded()
    expect(await store!.editMessage({ roomId: 1, messageId: 10, content: 'rewritten entirely', mentions: [], now: 1 })).not.toBeNull()
    expect(await store!.deleteMessage(1, 11, 1)).not.toBeNull()
    while (!(await store!.indexSearchBacklog(7)).done);
    expect(await found('rewritten')).toEqual([10])
    expect(await found('archived')).not.toContain(10)
    expect(await found('archived')).not.toContain(11)
    expect((await found('archived')).length).toBe(OLD_MESSAGES - 2)
    // Indexed once: an edit after the backfill leaves no trace of the words before it.
    await store!.editMessage({ roomId: 1, messageId: 10, content: 'third version', mentions: [], now: 2 })
    expect(await found('rewritten')).toEqual([])
    expect(await found('third')).toEqual([10])
  })
})
