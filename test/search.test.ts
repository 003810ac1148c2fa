/**
 * GET /api/chat/search through HTTP (so it runs against the binary too): word-start matching
 * across case, accents and scripts, user input that looks like FTS5 syntax, edits and
 * deletions, scope, paging and limits, and an upgraded database indexed in the background.
 */
import { Database } from 'bun:sqlite'
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { join } from 'node:path'
import { MIGRATIONS } from '../src/store/migrations'
import { call, createRoom, eventually, newUser, newUsers, post, startServer, tempDir, type TestServer, type TestUser } from './helpers'

let server: TestServer
let alice: TestUser
let bob: TestUser
let carol: TestUser
/** alice and bob are in it; carol is not. */
let room: number

beforeAll(async () => {
  server = await startServer()
  ;[alice, bob, carol] = await newUsers(server.url, 3, 'search')
  room = (await createRoom(server.url, alice, { name: 'search', participantIds: [bob.id] })).id
})
afterAll(() => server?.stop())

const search = (user: TestUser, params: Record<string, string | number>) =>
  call(server.url, `/api/chat/search?${new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]))}`, { token: user.token })

/** The ids the search returns, asserting a 200. */
async function hits(user: TestUser, q: string, params: Record<string, string | number> = {}): Promise<number[]> {
  const res = await search(user, { q, ...params })
  expect(res.status).toBe(200)
  return (res.body as { id: number }[]).map((m) => m.id)
}

/** A room of its own, so a test's words cannot meet another test's messages. */
async function roomWith(...contents: string[]): Promise<{ roomId: number; ids: number[] }> {
  const roomId = (await createRoom(server.url, alice, { name: 'words', participantIds: [bob.id] })).id
  const ids: number[] = []
  for (const content of contents) ids.push((await post(server.url, alice, roomId, content)).id)
  return { roomId, ids }
}

describe('matching', () => {
  it('ignores accents both ways and case', async () => {
    const { roomId, ids: [cafe, plain] } = await roomWith('Le café est prêt', 'CAFE time')
    for (const q of ['cafe', 'Café', 'CAFÉ', 'caf']) expect(await hits(bob, q, { roomId })).toEqual([plain!, cafe!])
    expect(await hits(bob, 'pret', { roomId })).toEqual([cafe!])
    expect(await hits(bob, 'TIME', { roomId })).toEqual([plain!])
  })

  it('matches decomposed accents and other Latin letters', async () => {
    const { roomId, ids: [ecole, angstrom] } = await roomWith('e\u0301cole du soir', 'Ångström naïve')
    expect(await hits(bob, 'école', { roomId })).toEqual([ecole!])
    expect(await hits(bob, 'angstrom naive', { roomId })).toEqual([angstrom!])
  })

  it('finds a word by its start in Korean, Cyrillic and Japanese runs', async () => {
    const { roomId, ids: [korean, russian, japanese] } = await roomWith('채팅방에서 만나요', 'Привет мир', '日本語のテキスト')
    expect(await hits(bob, '채팅', { roomId })).toEqual([korean!])
    expect(await hits(bob, '채팅방에서', { roomId })).toEqual([korean!])
    expect(await hits(bob, '만나', { roomId })).toEqual([korean!])
    expect(await hits(bob, '방에서', { roomId })).toEqual([])
    expect(await hits(bob, 'прив', { roomId })).toEqual([russian!])
    expect(await hits(bob, '日本', { roomId })).toEqual([japanese!])
  })

  it('answers for words of any script, marks and symbols included', async () => {
    const texts = ['हिन्दी में संदेश', 'ภาษาไทยข้อความ', 'مَرْحَبًا بالعالم', 'emoji 👍🏽 family 👨‍👩‍👧', 'Ǆemal ﬁnance ǅ', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 math', 'ｆｕｌｌｗｉｄｔｈ']
    const { roomId, ids } = await roomWith(...texts)
    for (const [i, text] of texts.entries()) {
      for (const word of text.split(' ')) {
        const res = await search(bob, { q: word, roomId })
        expect({ word, status: res.status }).toEqual({ word, status: 200 })
      }
      expect(await hits(bob, text, { roomId })).toContain(ids[i]!)
    }
  })

  it('matches the start of a word, never its middle', async () => {
    const { roomId, ids: [deployment, redeploy] } = await roomWith('the deployment went fine', 'redeploy tomorrow')
    expect(await hits(bob, 'deploy', { roomId })).toEqual([deployment!])
    expect(await hits(bob, 'deployments', { roomId })).toEqual([])
    expect(await hits(bob, 'ploy', { roomId })).toEqual([])
    expect(await hits(bob, 'redeploy', { roomId })).toEqual([redeploy!])
  })

  it('needs every word, in any order', async () => {
    const { roomId, ids: [both, one] } = await roomWith('release notes for friday', 'release party')
    expect(await hits(bob, 'fri rel', { roomId })).toEqual([both!])
    expect(await hits(bob, 'release', { roomId })).toEqual([one!, both!])
    expect(await hits(bob, 'release  party   ', { roomId })).toEqual([one!])
    expect(await hits(bob, 'release missing', { roomId })).toEqual([])
  })

  it('takes a word with many longer words after it (the prefix path) like any other', async () => {
    const contents = Array.from({ length: 20 }, (_, i) => `token${String.fromCharCode(97 + i)}word`)
    const { roomId, ids } = await roomWith(...contents, 'tok alone')
    expect(await hits(bob, 'tok', { roomId, limit: 100 })).toEqual(ids.toReversed())
    expect(await hits(bob, 'tokenc', { roomId })).toEqual([ids[2]!])
  })

  it('takes a word that starts another query word as said by it', async () => {
    const { roomId, ids: [deploy] } = await roomWith('deploying on monday')
    expect(await hits(bob, 'dep deploying de', { roomId })).toEqual([deploy!])
    expect(await hits(bob, 'deploying deployment', { roomId })).toEqual([])
  })

  it('never takes the room a message is in for one of its words', async () => {
    const { roomId, ids: [plain] } = await roomWith('nothing numeric here', `room ${'x'}`)
    expect(await hits(bob, String(roomId), { roomId })).toEqual([])
    expect(await hits(bob, String(roomId))).toEqual([])
    expect(await hits(bob, `nothing ${roomId}`)).toEqual([])
    expect(await hits(bob, 'nothing')).toContain(plain!)
  })

  it('never matches JOIN and LEAVE messages', async () => {
    const [dora] = await newUsers(server.url, 1, 'joiner')
    const { roomId } = await roomWith('hello')
    await call(server.url, `/api/chat/rooms/${roomId}/participants`, { token: alice.token, body: { userId: dora.id } })
    const history = (await call(server.url, `/api/chat/rooms/${roomId}/messages`, { token: alice.token })).body as { content: string; messageType: string }[]
    const joined = history.find((m) => m.messageType === 'JOIN')!
    for (const word of joined.content.split(/\s+/).filter(Boolean)) expect(await hits(alice, word, { roomId })).toEqual([])
  })
})

describe('user input is never query syntax', () => {
  it('answers 200 for FTS5 operators and odd characters, matching them as words or not at all', async () => {
    const { roomId, ids: [near, ab, minus] } = await roomWith('we are near the end', 'a:b ratio', 'x-ray vision')
    const odd = ['"', '""', '*', '"*', 'NEAR(', 'NEAR(a b)', '-x', 'a:b', 'AND', 'OR', 'NOT', '(', ')', '^', 'content:near', '{content}: near', "'", '\\', '%', '_', '!!!', '🎉']
    for (const q of odd) {
      const res = await search(bob, { q, roomId })
      expect({ q, status: res.status }).toEqual({ q, status: 200 })
    }
    expect(await hits(bob, 'NEAR(', { roomId })).toEqual([near!])
    expect(await hits(bob, '"near"', { roomId })).toEqual([near!])
    expect(await hits(bob, 'near*', { roomId })).toEqual([near!])
    expect(await hits(bob, 'a:b', { roomId })).toEqual([ab!])
    expect(await hits(bob, '-x', { roomId })).toEqual([minus!])
    expect(await hits(bob, 'x-ray', { roomId })).toEqual([minus!])
    expect(await hits(bob, 'near AND end', { roomId })).toEqual([])
    expect(await hits(bob, 'content:near', { roomId })).toEqual([])
    // NUL is refused in every query value, as in any text (docs/API.md), naming the field.
    const nul = await search(bob, { q: 'a\u0000b', roomId })
    expect([nul.status, nul.body.error.message]).toEqual([400, 'q: must not contain NUL (%00) characters'])
  })

  it('answers [] for a query of punctuation alone', async () => {
    await roomWith('!!! ??? ...')
    for (const q of ['!!!', '...', '"', '* * *', '- : ( )']) expect(await hits(alice, q)).toEqual([])
  })

  it('takes 200 characters after trimming and refuses 201 or none, naming q', async () => {
    const { roomId, ids: [long] } = await roomWith(`${'w'.repeat(100)} ${'v'.repeat(99)}`)
    expect(await hits(bob, `  ${'w'.repeat(100)} ${'v'.repeat(99)}  `, { roomId })).toEqual([long!])
    expect(await hits(bob, '한'.repeat(200), { roomId })).toEqual([])
    for (const q of ['w'.repeat(201), '', '   ', '\t\n']) {
      const res = await search(bob, { q, roomId })
      expect(res.status).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
      expect(res.body.error.message).toStartWith('q:')
    }
    const missing = await call(server.url, '/api/chat/search', { token: bob.token })
    expect(missing.status).toBe(400)
    expect(missing.body.error.message).toStartWith('q')
  })
})

describe('edits and deletions', () => {
  it('an edited message matches its new words only', async () => {
    const { roomId, ids: [id] } = await roomWith('original wording here')
    const edited = await call(server.url, `/api/chat/rooms/${roomId}/messages/${id}`, { method: 'PATCH', token: alice.token, body: { content: 'replacement text' } })
    expect(edited.status).toBe(200)
    expect(await hits(bob, 'original', { roomId })).toEqual([])
    expect(await hits(bob, 'wording', { roomId })).toEqual([])
    expect(await hits(bob, 'replace', { roomId })).toEqual([id!])
    const [found] = (await search(bob, { q: 'replacement', roomId })).body
    expect(found.content).toBe('replacement text')
    expect(found.editedAt).not.toBeNull()
  })

  it('a deleted message never matches, nor do the messages of a deleted room', async () => {
    const { roomId, ids: [gone, kept] } = await roomWith('ephemeral words', 'ephemeral but kept')
    expect((await call(server.url, `/api/chat/rooms/${roomId}/messages/${gone}`, { method: 'DELETE', token: alice.token })).status).toBe(204)
    expect(await hits(bob, 'ephemeral', { roomId })).toEqual([kept!])
    expect(await hits(bob, 'ephemeral')).toEqual([kept!])
    expect((await call(server.url, `/api/chat/rooms/${roomId}`, { method: 'DELETE', token: alice.token })).status).toBe(204)
    expect(await hits(bob, 'ephemeral')).toEqual([])
  })

  it('a reaction changes nothing the search sees', async () => {
    const { roomId, ids: [id] } = await roomWith('reacted message')
    await call(server.url, `/api/chat/rooms/${roomId}/messages/${id}/reactions/${encodeURIComponent('👍')}`, { method: 'PUT', token: bob.token })
    const [found] = (await search(bob, { q: 'reacted', roomId })).body
    expect(found.id).toBe(id)
    expect(found.reactions).toEqual([{ emoji: '👍', count: 1, userIds: [bob.id] }])
  })
})

describe('scope', () => {
  it('searches only the rooms the caller is in now', async () => {
    const word = `scope${Date.now().toString(36)}`
    const mine = (await post(server.url, alice, room, `${word} in the shared room`)).id
    const privateRoom = (await createRoom(server.url, carol, { name: 'carol private', visibility: 'private' })).id
    const secret = (await post(server.url, carol, privateRoom, `${word} carol's secret`)).id
    const publicRoom = (await createRoom(server.url, carol, { name: 'carol public', visibility: 'public' })).id
    const open = (await post(server.url, carol, publicRoom, `${word} in public`)).id

    expect(await hits(alice, word)).toEqual([mine])
    expect(await hits(bob, word)).toEqual([mine])
    expect(await hits(carol, word)).toEqual([open, secret])

    // A public room the caller is not in is searched only when named (its history is readable).
    expect(await hits(alice, word, { roomId: publicRoom })).toEqual([open])
    expect((await call(server.url, `/api/chat/rooms/${publicRoom}/join`, { method: 'POST', token: alice.token })).status).toBe(200)
    expect(await hits(alice, word)).toEqual([open, mine])
    expect((await call(server.url, `/api/chat/rooms/${publicRoom}/leave`, { method: 'POST', token: alice.token })).status).toBe(204)
    expect(await hits(alice, word)).toEqual([mine])

    // A private room the caller is not in reads exactly like a room that does not exist.
    const hidden = await search(alice, { q: word, roomId: privateRoom })
    const missing = await search(alice, { q: word, roomId: 999_999 })
    expect(hidden.status).toBe(404)
    expect(hidden.body).toEqual(missing.body)
  })

  it('stops searching a room the caller has left', async () => {
    const word = `left${Date.now().toString(36)}`
    const dave = await newUser(server.url, 'leaver')
    const roomId = (await createRoom(server.url, alice, { name: 'left', participantIds: [dave.id] })).id
    await post(server.url, alice, roomId, `${word} before leaving`)
    expect((await hits(dave, word)).length).toBe(1)
    expect((await call(server.url, `/api/chat/rooms/${roomId}/leave`, { method: 'POST', token: dave.token })).status).toBe(204)
    expect(await hits(dave, word)).toEqual([])
    expect((await search(dave, { q: word, roomId })).status).toBe(404)
  })

  it('searches every room of a caller in many rooms (past the rooms named in the query)', async () => {
    const word = `many${Date.now().toString(36)}`
    const [member, stranger] = await newUsers(server.url, 2, 'many')
    const rooms: number[] = []
    for (let i = 0; i < 101; i++) rooms.push((await createRoom(server.url, member, { name: `many ${i}` })).id)
    const first = (await post(server.url, member, rooms[0]!, `${word} first`)).id
    const last = (await post(server.url, member, rooms[100]!, `${word} last`)).id
    const elsewhere = (await createRoom(server.url, stranger, { name: 'elsewhere' })).id
    await post(server.url, stranger, elsewhere, `${word} elsewhere`)
    expect(await hits(member, word)).toEqual([last, first])
  })

  it('needs a session', async () => {
    const res = await call(server.url, '/api/chat/search?q=hello')
    expect(res.status).toBe(401)
  })
})

describe('paging', () => {
  it('goes back with lastMessageId, newest first, and bounds limit', async () => {
    const word = `page${Date.now().toString(36)}`
    const contents = Array.from({ length: 25 }, (_, i) => `${word} number ${i}`)
    const { roomId, ids } = await roomWith(...contents)
    const newestFirst = ids.toReversed()

    expect(await hits(bob, word)).toEqual(newestFirst.slice(0, 20))
    expect(await hits(bob, word, { limit: 10 })).toEqual(newestFirst.slice(0, 10))
    expect(await hits(bob, word, { limit: 10, lastMessageId: newestFirst[9]! })).toEqual(newestFirst.slice(10, 20))
    expect(await hits(bob, word, { lastMessageId: newestFirst[19]!, roomId })).toEqual(newestFirst.slice(20))
    expect(await hits(bob, word, { lastMessageId: ids[0]! })).toEqual([])
    expect(await hits(bob, word, { limit: 1000 })).toEqual(newestFirst)
    expect(await hits(bob, word, { limit: 1 })).toEqual([newestFirst[0]!])

    for (const [name, value] of [['limit', 0], ['limit', -1], ['limit', 'x'], ['lastMessageId', 0], ['lastMessageId', 'x'], ['roomId', 0], ['roomId', '1.5']] as const) {
      const res = await search(bob, { q: word, [name]: value })
      expect({ name, value, status: res.status }).toEqual({ name, value, status: 400 })
      expect(res.body.error.message).toContain(name)
    }
  })

  it('answers Messages shaped as history does', async () => {
    const word = `shape${Date.now().toString(36)}`
    const { roomId, ids: [id] } = await roomWith(`${word} here`)
    const [found] = (await search(bob, { q: word })).body
    const history = (await call(server.url, `/api/chat/rooms/${roomId}/messages`, { token: bob.token })).body as { id: number }[]
    expect(found).toEqual(history.find((m) => m.id === id))
  })
})

describe('an upgraded database', () => {
  it('indexes the messages it already had, in the background', async () => {
    // A database as issue 10 left it: schema 4, messages written before search existed.
    const databasePath = join(tempDir(), 'old.db')
    const db = new Database(databasePath, { create: true, strict: true })
    db.run('PRAGMA journal_mode = WAL')
    for (const step of MIGRATIONS.slice(0, 4)) db.run(step)
    db.run('PRAGMA user_version = 4')
    const now = Date.now()
    db.run(`INSERT INTO users (id, username, display_name, password_hash, created_at) VALUES (1, 'elder', 'elder', 'x', ?)`, [now])
    db.run(`INSERT INTO rooms (id, name, type, visibility, owner_id, created_at) VALUES (1, 'archive', 'group', 'public', 1, ?)`, [now])
    const insert = db.query(`INSERT INTO messages (id, room_id, sender_id, content, message_type, created_at) VALUES (?, 1, 1, ?, ?, ?)`)
    const total = 5000
    db.transaction(() => {
      for (let id = 1; id <= total; id++) insert.run(id, id === 1 ? 'the oldest archived café' : `archived note ${id}`, id % 100 === 0 ? 'JOIN' : 'MESSAGE', now)
    })()
    db.close()

    const upgraded = await startServer({ databasePath })
    try {
      const reader = await newUser(upgraded.url, 'reader')
      const find = (q: string) => call(upgraded.url, `/api/chat/search?${new URLSearchParams({ q, roomId: '1', limit: '100' })}`, { token: reader.token })
      await eventually(async () => ((await find('cafe')).body as unknown[]).length === 1, 10_000, 'the oldest message indexed')
      const newest = (await find('archived')).body as { id: number }[]
      expect(newest.map((m) => m.id)).toEqual(Array.from({ length: 101 }, (_, i) => total - 1 - i).filter((id) => id % 100 !== 0).slice(0, 100))
    } finally {
      await upgraded.stop()
    }
  })
})
