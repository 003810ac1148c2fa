import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { call, createRoom, newUsers, openStream, post, startServer, type TestServer, type TestUser } from './helpers'

let server: TestServer
let alice: TestUser, bob: TestUser, carol: TestUser, dave: TestUser
beforeAll(async () => {
  server = await startServer()
  ;[alice, bob, carol, dave] = await newUsers(server.url, 4, 'rooms')
})
afterAll(() => server.stop())

const get = (path: string, user: TestUser) => call(server.url, path, { token: user.token })
const send = (path: string, user: TestUser, body?: unknown, method = 'POST') => call(server.url, path, { method, token: user.token, body })

describe('create and read rooms', () => {
  it('creates a private group room owned by the caller with the participants, writing no message', async () => {
    const res = await send('/api/chat/rooms', alice, { name: '  design  ', participantIds: [bob.id, bob.id] })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ name: 'design', type: 'group', visibility: 'private', ownerId: alice.id, lastMessage: null, unreadCount: 0 })
    expect(res.body.participants.map((u: any) => u.id).sort()).toEqual([alice.id, bob.id].sort())
    expect((await get(`/api/chat/rooms/${res.body.id}/messages`, alice)).body).toEqual([])
  })

  it.each([
    [{ name: '' }, 'name'],
    [{ name: '   ' }, 'name'],
    [{ name: 'x'.repeat(101) }, 'name'],
    [{ name: 'ok', visibility: 'secret' }, 'visibility'],
    [{ name: 'ok', participantIds: [999999] }, 'participantIds'],
    [{ name: 'ok', participantIds: ['x'] }, 'participantIds'],
    [{}, 'name'],
  ])('rejects %j with 400 naming the field', async (body, field) => {
    const res = await send('/api/chat/rooms', alice, body)
    expect(res.status).toBe(400)
    expect(res.body.error.message).toContain(field)
  })

  it('hides a private room from outsiders exactly like a missing room', async () => {
    const room = await createRoom(server.url, alice, { participantIds: [bob.id] })
    const outsider = await get(`/api/chat/rooms/${room.id}`, carol)
    const missing = await get('/api/chat/rooms/987654', carol)
    expect(outsider.status).toBe(404)
    expect(outsider.body).toEqual(missing.body)
    for (const [path, method] of [[`/messages`, 'GET'], [`/messages`, 'POST'], [`/join`, 'POST'], [`/leave`, 'POST'], [`/read`, 'POST'], [`/typing`, 'POST'], ['', 'DELETE'], ['/subscribe', 'GET']] as const) {
      const body = path === '/messages' && method === 'POST' ? { content: 'hi' } : path === '/read' ? { messageId: 1 } : undefined
      const res = await call(server.url, `/api/chat/rooms/${room.id}${path}`, { method, token: carol.token, body })
      expect([path, res.status]).toEqual([path, 404])
    }
    expect((await get(`/api/chat/rooms/${room.id}`, bob)).status).toBe(200)
  })

  it('lets anyone read a public room but only participants post (403)', async () => {
    const room = await createRoom(server.url, alice, { visibility: 'public' })
    await post(server.url, alice, room.id, 'welcome')
    expect((await get(`/api/chat/rooms/${room.id}`, carol)).status).toBe(200)
    expect((await get(`/api/chat/rooms/${room.id}/messages`, carol)).body.map((m: any) => m.content)).toEqual(['welcome'])
    const posted = await send(`/api/chat/rooms/${room.id}/messages`, carol, { content: 'hi' })
    expect(posted.status).toBe(403)
    expect(posted.body.error.code).toBe('forbidden')
  })

  it('lists the caller\'s rooms by recent activity with last message and unread count', async () => {
    const [x, y] = await newUsers(server.url, 2, 'list')
    const older = await createRoom(server.url, x!, { name: 'older', participantIds: [y!.id] })
    const newer = await createRoom(server.url, x!, { name: 'newer', participantIds: [y!.id] })
    await post(server.url, y!, older.id, 'one')
    await post(server.url, y!, older.id, 'two')
    const list = await get('/api/chat/rooms', x!)
    expect(list.status).toBe(200)
    expect(list.body.map((r: any) => r.name)).toEqual(['older', 'newer'])
    expect(list.body[0].lastMessage.content).toBe('two')
    expect(list.body[0].unreadCount).toBe(2)
    expect(list.body[1].unreadCount).toBe(0)
    // the sender's own messages are never unread
    expect((await get('/api/chat/rooms', y!)).body[0].unreadCount).toBe(0)
    await post(server.url, x!, newer.id, 'bump')
    expect((await get('/api/chat/rooms', x!)).body.map((r: any) => r.name)).toEqual(['newer', 'older'])
  })

  it('accepts ?userId= only for the caller', async () => {
    expect((await get(`/api/chat/rooms?userId=${alice.id}`, alice)).status).toBe(200)
    expect((await get(`/api/chat/rooms?userId=${bob.id}`, alice)).status).toBe(403)
    expect((await get(`/api/chat/rooms?userId=abc`, alice)).status).toBe(400)
  })

  it('lists public rooms the caller is not in', async () => {
    const room = await createRoom(server.url, alice, { name: 'open-house', visibility: 'public' })
    const list = await get('/api/chat/rooms/public', dave)
    expect(list.body.map((r: any) => r.id)).toContain(room.id)
    expect((await get('/api/chat/rooms/public', alice)).body.map((r: any) => r.id)).not.toContain(room.id)
  })
})

describe('membership', () => {
  it('join a public room posts JOIN; joining again changes nothing; leave posts LEAVE', async () => {
    const room = await createRoom(server.url, alice, { visibility: 'public' })
    const joined = await send(`/api/chat/rooms/${room.id}/join`, bob)
    expect(joined.status).toBe(200)
    expect(joined.body.participants.map((u: any) => u.id)).toContain(bob.id)
    expect((await send(`/api/chat/rooms/${room.id}/join`, bob)).status).toBe(200)
    const left = await send(`/api/chat/rooms/${room.id}/leave`, bob)
    expect(left.status).toBe(204)
    const history = (await get(`/api/chat/rooms/${room.id}/messages`, alice)).body
    expect(history.map((m: any) => [m.messageType, m.senderId])).toEqual([['JOIN', bob.id], ['LEAVE', bob.id]])
    expect((await send(`/api/chat/rooms/${room.id}/leave`, bob)).status).toBe(403)
  })

  it('an owner who leaves hands the room to the longest-standing participant', async () => {
    const room = await createRoom(server.url, alice, { participantIds: [bob.id, carol.id] })
    await send(`/api/chat/rooms/${room.id}/leave`, alice)
    // bob and carol joined together: either may inherit, never the leaver
    expect([bob.id, carol.id]).toContain((await get(`/api/chat/rooms/${room.id}`, bob)).body.ownerId)
  })

  it('the owner adds participants to a group room (JOIN for them); others cannot', async () => {
    const room = await createRoom(server.url, alice, { participantIds: [bob.id] })
    expect((await send(`/api/chat/rooms/${room.id}/participants`, bob, { userId: carol.id })).status).toBe(403)
    const added = await send(`/api/chat/rooms/${room.id}/participants`, alice, { userId: carol.id })
    expect(added.status).toBe(200)
    expect(added.body.participants.map((u: any) => u.id)).toContain(carol.id)
    const history = (await get(`/api/chat/rooms/${room.id}/messages`, carol)).body
    expect(history.at(-1)).toMatchObject({ messageType: 'JOIN', senderId: carol.id })
    expect((await send(`/api/chat/rooms/${room.id}/participants`, alice, { userId: 999999 })).status).toBe(404)
    expect((await send(`/api/chat/rooms/${room.id}/participants`, alice, { userId: 'x' })).status).toBe(400)
    expect((await send(`/api/chat/rooms/${room.id}/participants`, dave, { userId: dave.id })).status).toBe(404)
  })

  it('a newcomer has no unread backlog from before joining', async () => {
    const room = await createRoom(server.url, alice, { visibility: 'public' })
    await post(server.url, alice, room.id, 'old news')
    await send(`/api/chat/rooms/${room.id}/join`, dave)
    await post(server.url, alice, room.id, 'fresh')
    const mine = (await get('/api/chat/rooms', dave)).body.find((r: any) => r.id === room.id)
    expect(mine.unreadCount).toBe(1)
  })
})

describe('delete', () => {
  it('owner only; messages go with the room', async () => {
    const room = await createRoom(server.url, alice, { participantIds: [bob.id] })
    await post(server.url, bob, room.id, 'bye')
    expect((await send(`/api/chat/rooms/${room.id}`, bob, undefined, 'DELETE')).status).toBe(403)
    expect((await send(`/api/chat/rooms/${room.id}`, alice, undefined, 'DELETE')).status).toBe(204)
    expect((await get(`/api/chat/rooms/${room.id}`, alice)).status).toBe(404)
    expect((await get(`/api/chat/rooms/${room.id}/messages`, bob)).status).toBe(404)
  })

  it('message ids never go backwards after the newest messages are deleted', async () => {
    const room = await createRoom(server.url, alice)
    const last = await post(server.url, alice, room.id, 'newest')
    await send(`/api/chat/rooms/${room.id}`, alice, undefined, 'DELETE')
    const other = await createRoom(server.url, alice)
    expect((await post(server.url, alice, other.id, 'next')).id).toBeGreaterThan(last.id)
  })
})

describe('direct rooms', () => {
  it('201 when created, 200 after; either participant may delete', async () => {
    const [x, y] = await newUsers(server.url, 2, 'dm')
    const first = await send(`/api/chat/users/${y!.id}/rooms`, x!)
    expect(first.status).toBe(201)
    expect(first.body).toMatchObject({ type: 'direct', visibility: 'private' })
    const again = await send(`/api/chat/users/${x!.id}/rooms`, y!)
    expect(again.status).toBe(200)
    expect(again.body.id).toBe(first.body.id)
    expect((await send(`/api/chat/rooms/${first.body.id}/participants`, x!, { userId: alice.id })).status).toBe(400)
    expect((await send(`/api/chat/rooms/${first.body.id}`, y!, undefined, 'DELETE')).status).toBe(204)
  })

  it('exactly one room per pair under concurrent calls from both sides', async () => {
    const [x, y] = await newUsers(server.url, 2, 'race')
    const calls = Array.from({ length: 20 }, (_, i) => (i % 2 ? send(`/api/chat/users/${y!.id}/rooms`, x!) : send(`/api/chat/users/${x!.id}/rooms`, y!)))
    const results = await Promise.all(calls)
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1)
    expect(results.filter((r) => r.status === 201).length).toBe(1)
    expect(results.filter((r) => r.status === 200).length).toBe(19)
  })

  it('brings back a participant who had left with a JOIN message, and their user stream gets the room again', async () => {
    const [x, y] = await newUsers(server.url, 2, 'dmback')
    const room = (await send(`/api/chat/users/${y!.id}/rooms`, x!)).body
    expect((await send(`/api/chat/rooms/${room.id}/leave`, y!)).status).toBe(204)
    const stream = await openStream(server.url, '/api/chat/stream', y!.token)
    try {
      const again = await send(`/api/chat/users/${y!.id}/rooms`, x!)
      expect(again.status).toBe(200)
      expect(again.body.participants.map((p: any) => p.id).sort()).toEqual([x!.id, y!.id].sort())
      expect((await stream.next((e) => e.event === 'room-created')).json.roomId).toBe(room.id)
      const said = await post(server.url, x!, room.id, 'welcome back')
      const joinAndMessage = [await stream.next((e) => e.event === 'message'), await stream.next((e) => e.event === 'message')]
      expect(joinAndMessage.map((e) => e.json.messageType)).toEqual(['JOIN', 'MESSAGE'])
      expect(joinAndMessage[0]!.json.senderId).toBe(y!.id)
      expect(joinAndMessage[1]!.json.id).toBe(said.id)
    } finally {
      stream.close()
    }
  })

  it('yourself is 400, an unknown user 404', async () => {
    expect((await send(`/api/chat/users/${alice.id}/rooms`, alice)).status).toBe(400)
    expect((await send('/api/chat/users/999999/rooms', alice)).status).toBe(404)
  })
})

describe('users', () => {
  it('lists users with a case-insensitive prefix filter and a clamped limit', async () => {
    const all = await get('/api/chat/users', alice)
    expect(all.status).toBe(200)
    expect(all.body.map((u: any) => u.id)).toContain(alice.id)
    const prefix = alice.username.slice(0, 8).toUpperCase()
    const filtered = await get(`/api/chat/users?q=${prefix}`, alice)
    expect(filtered.body.length).toBeGreaterThan(0)
    expect(filtered.body.every((u: any) => u.username.startsWith(prefix.toLowerCase()))).toBe(true)
    expect((await get('/api/chat/users?limit=1', alice)).body.length).toBe(1)
    expect((await get('/api/chat/users?limit=100000', alice)).status).toBe(200)
    expect((await get('/api/chat/users?limit=0', alice)).status).toBe(400)
    expect((await get('/api/chat/users?q=%25', alice)).body).toEqual([])
  })
})
