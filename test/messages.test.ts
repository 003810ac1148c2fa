import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { call, createRoom, newUsers, post, startServer, type TestServer, type TestUser } from './helpers'

let server: TestServer
let alice: TestUser, bob: TestUser, carol: TestUser
beforeAll(async () => {
  server = await startServer()
  ;[alice, bob, carol] = await newUsers(server.url, 3, 'msgs')
})
afterAll(() => server.stop())

const history = (roomId: number, user: TestUser, query = '') => call(server.url, `/api/chat/rooms/${roomId}/messages${query}`, { token: user.token })
const send = (roomId: number, user: TestUser, body: unknown) => call(server.url, `/api/chat/rooms/${roomId}/messages`, { token: user.token, body })

describe('posting', () => {
  it('stores a message and answers 201 with the Message', async () => {
    const room = await createRoom(server.url, alice, { participantIds: [bob.id] })
    const res = await send(room.id, bob, { content: 'hello <b>team</b>' })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ roomId: room.id, senderId: bob.id, content: 'hello <b>team</b>', messageType: 'MESSAGE', clientMessageId: null })
    expect(res.body.createdAt).toMatch(/Z$/)
  })

  it('counts content length in code points: 4000 emoji pass, 4001 characters do not', async () => {
    const room = await createRoom(server.url, alice)
    expect((await send(room.id, alice, { content: '😀'.repeat(4000) })).status).toBe(201)
    const long = await send(room.id, alice, { content: 'x'.repeat(4001) })
    expect(long.status).toBe(400)
    expect(long.body.error.message).toContain('content')
  })

  it.each([
    [{ content: '' }, 'content'],
    [{ content: ' \n\t ' }, 'content'],
    [{}, 'content'],
    [{ content: null }, 'content'],
    [{ content: 'x', messageType: 'JOIN' }, 'messageType'],
    [{ content: 'x', clientMessageId: '' }, 'clientMessageId'],
    [{ content: 'x', clientMessageId: 'x'.repeat(65) }, 'clientMessageId'],
  ])('rejects %j with 400 naming the field', async (body, field) => {
    const room = await createRoom(server.url, alice)
    const res = await send(room.id, alice, body)
    expect(res.status).toBe(400)
    expect(res.body.error.message).toContain(field)
    expect((await history(room.id, alice)).body).toEqual([])
  })

  it('accepts messageType MESSAGE explicitly', async () => {
    const room = await createRoom(server.url, alice)
    expect((await send(room.id, alice, { content: 'x', messageType: 'MESSAGE' })).status).toBe(201)
  })
})

describe('racing a room\'s deletion', () => {
  it('answers posts, joins and additions 2xx or 404, never 500, and stores nothing in the room once it is gone', async () => {
    const [owner, member, newcomer, joiner] = await newUsers(server.url, 4, 'msgrace')
    const statuses = new Set<number>()
    for (let round = 0; round < 20; round++) {
      const room = await createRoom(server.url, owner!, { participantIds: [member!.id], visibility: 'public' })
      const racing = [
        ...Array.from({ length: 20 }, (_, i) => send(room.id, i % 2 ? owner! : member!, { content: `race ${i}` })),
        call(server.url, `/api/chat/rooms/${room.id}`, { method: 'DELETE', token: owner!.token }),
        call(server.url, `/api/chat/rooms/${room.id}/participants`, { token: owner!.token, body: { userId: newcomer!.id } }),
        call(server.url, `/api/chat/rooms/${room.id}/join`, { method: 'POST', token: joiner!.token }),
      ]
      for (const reply of await Promise.all(racing)) statuses.add(reply.status)
      expect((await history(room.id, owner!)).status).toBe(404)
    }
    expect([...statuses].filter((status) => ![200, 201, 204, 404].includes(status))).toEqual([])
  })
})

describe('idempotent retries', () => {
  it('a repeated clientMessageId returns the first message (200) and stores nothing', async () => {
    const room = await createRoom(server.url, alice)
    const first = await send(room.id, alice, { content: 'once', clientMessageId: 'abc-1' })
    const again = await send(room.id, alice, { content: 'different text', clientMessageId: 'abc-1' })
    expect(first.status).toBe(201)
    expect(again.status).toBe(200)
    expect(again.body).toEqual(first.body)
    expect((await history(room.id, alice)).body.length).toBe(1)
  })

  it('the same clientMessageId from another sender or room is a new message', async () => {
    const room = await createRoom(server.url, alice, { participantIds: [bob.id] })
    const other = await createRoom(server.url, alice)
    await send(room.id, alice, { content: 'a', clientMessageId: 'shared' })
    expect((await send(room.id, bob, { content: 'b', clientMessageId: 'shared' })).status).toBe(201)
    expect((await send(other.id, alice, { content: 'c', clientMessageId: 'shared' })).status).toBe(201)
  })

  it('concurrent retries store exactly one message', async () => {
    const room = await createRoom(server.url, alice)
    const results = await Promise.all(Array.from({ length: 25 }, () => send(room.id, alice, { content: 'burst', clientMessageId: 'same-id' })))
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1)
    expect(results.filter((r) => r.status === 201).length).toBe(1)
    expect((await history(room.id, alice)).body.length).toBe(1)
  })
})

describe('history paging', () => {
  let roomId: number
  let ids: number[]
  beforeAll(async () => {
    roomId = (await createRoom(server.url, alice, { participantIds: [bob.id] })).id
    ids = []
    for (let i = 0; i < 120; i++) ids.push((await post(server.url, i % 2 ? alice : bob, roomId, `m${i}`)).id)
  })

  it('no cursor: the newest 50, ascending', async () => {
    const page = (await history(roomId, alice)).body.map((m: any) => m.id)
    expect(page).toEqual(ids.slice(-50))
  })

  it('lastMessageId: the ones just older, ascending; walking back visits every message once', async () => {
    const seen: number[] = []
    let cursor = ''
    for (;;) {
      const page = (await history(roomId, alice, `?limit=40${cursor}`)).body.map((m: any) => m.id)
      if (page.length === 0) break
      seen.unshift(...page)
      cursor = `&lastMessageId=${page[0]}`
    }
    expect(seen).toEqual(ids)
  })

  it('afterId: the ones just newer, ascending', async () => {
    const page = (await history(roomId, alice, `?afterId=${ids[9]}&limit=5`)).body.map((m: any) => m.id)
    expect(page).toEqual(ids.slice(10, 15))
    expect((await history(roomId, alice, `?afterId=${ids.at(-1)}`)).body).toEqual([])
    expect((await history(roomId, alice, '?afterId=0&limit=3')).body.map((m: any) => m.id)).toEqual(ids.slice(0, 3))
  })

  it('clamps a large limit to 200 and rejects bad cursors and limits with 400', async () => {
    expect((await history(roomId, alice, '?limit=1000')).body.length).toBe(120)
    for (const query of ['?limit=0', '?limit=-1', '?limit=abc', '?lastMessageId=0', '?lastMessageId=-5', '?lastMessageId=x', '?afterId=1.5', '?afterId=-1']) {
      const res = await history(roomId, alice, query)
      expect([query, res.status]).toEqual([query, 400])
      expect(res.body.error.code).toBe('validation_failed')
    }
  })
})

describe('read markers', () => {
  it('drive unreadCount and only move forward', async () => {
    const room = await createRoom(server.url, alice, { participantIds: [bob.id] })
    const m1 = await post(server.url, alice, room.id, 'one')
    const m2 = await post(server.url, alice, room.id, 'two')
    await post(server.url, alice, room.id, 'three')
    const unread = async () => (await call(server.url, '/api/chat/rooms', { token: bob.token })).body.find((r: any) => r.id === room.id).unreadCount
    expect(await unread()).toBe(3)
    expect((await call(server.url, `/api/chat/rooms/${room.id}/read`, { token: bob.token, body: { messageId: m2.id } })).status).toBe(204)
    expect(await unread()).toBe(1)
    await call(server.url, `/api/chat/rooms/${room.id}/read`, { token: bob.token, body: { messageId: m1.id } })
    expect(await unread()).toBe(1)
    // a marker past the newest message does not swallow future messages
    await call(server.url, `/api/chat/rooms/${room.id}/read`, { token: bob.token, body: { messageId: 9_000_000 } })
    await post(server.url, alice, room.id, 'four')
    expect(await unread()).toBe(1)
    expect((await call(server.url, `/api/chat/rooms/${room.id}/read`, { token: bob.token, body: { messageId: 'x' } })).status).toBe(400)
    expect((await call(server.url, `/api/chat/rooms/${room.id}/read`, { token: carol.token, body: { messageId: 1 } })).status).toBe(404)
  })
})

describe('typing', () => {
  it('204 for participants, 404 for outsiders of a private room', async () => {
    const room = await createRoom(server.url, alice)
    expect((await call(server.url, `/api/chat/rooms/${room.id}/typing`, { method: 'POST', token: alice.token })).status).toBe(204)
    expect((await call(server.url, `/api/chat/rooms/${room.id}/typing`, { method: 'POST', token: carol.token })).status).toBe(404)
  })
})

describe('rate limit', () => {
  it('429 with Retry-After past the per-user limit; idempotent repeats do not count', async () => {
    const limited = await startServer({ rateLimitMessagesPerMinute: 5 })
    try {
      const [u] = await newUsers(limited.url, 1, 'rate')
      const room = await createRoom(limited.url, u!)
      const say = (body: unknown) => call(limited.url, `/api/chat/rooms/${room.id}/messages`, { token: u!.token, body })
      for (let i = 0; i < 5; i++) expect((await say({ content: `m${i}`, clientMessageId: `c${i}` })).status).toBe(201)
      const over = await say({ content: 'too many' })
      expect(over.status).toBe(429)
      expect(over.body.error.code).toBe('rate_limited')
      expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
      // a retry of an accepted message still answers
      expect((await say({ content: 'm0', clientMessageId: 'c0' })).status).toBe(200)
      expect((await call(limited.url, `/api/chat/rooms/${room.id}/messages`, { token: u!.token })).body.length).toBe(5)
    } finally {
      await limited.stop()
    }
  })
})
