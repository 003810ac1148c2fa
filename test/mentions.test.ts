import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { mentionNames, resolveMentions } from '../src/modules/messages/mentions'
import { call, createRoom, newUsers, post, startServer, type TestServer, type TestUser } from './helpers'

const PEOPLE = new Map([
  ['alice', 1],
  ['bob', 2],
  ['carol.smith', 3],
  ['dan-', 4],
  ['x_y', 5],
])
const parse = (content: string) => resolveMentions(mentionNames(content), PEOPLE)

describe('mention parser', () => {
  it.each([
    ['hi @alice', [1]],
    ['@ALICE and @Bob', [1, 2]],
    ['@alice, @bob: @carol.smith;', [1, 2, 3]],
    ['(@alice) [@bob] "@alice"', [1, 2]],
    ['thanks @alice.', [1]],
    ['thanks @alice...', [1]],
    ["@alice's idea", [1]],
    ['@bob!', [2]],
    ['@alice\n@bob', [1, 2]],
    ['@dan- exactly', [4]],
    ['@x_y', [5]],
    ['@bob @alice @bob @alice', [1, 2]],
    ['😀@alice', [1]],
    ['—@alice', [1]],
  ])('%j names %j', (content, ids) => {
    expect(parse(content)).toEqual(ids)
  })

  it.each([
    ['mail bob@alice.com'],
    ['a.b@alice'],
    ['x+y@bob'],
    ['é@alice'],
    ['@@alice'],
    ['@alice.com'],
    ['@alicex'],
    ['@carol'],
    ['@ alice'],
    ['@'],
    ['no at sign at all'],
    ['@eve is not in the room'],
  ])('%j names nobody', (content) => {
    expect(parse(content)).toEqual([])
  })

  it('finds no candidate in content without an @ (the post path then reads no participants)', () => {
    expect(mentionNames('plain text, no sign')).toEqual([])
    expect(mentionNames('bob@alice.com')).toEqual([])
    expect(mentionNames('@Alice.').map((n) => n.name)).toEqual(['alice.'])
  })
})

let server: TestServer
let alice: TestUser, bob: TestUser, carol: TestUser, dave: TestUser
beforeAll(async () => {
  server = await startServer()
  ;[alice, bob, carol, dave] = await newUsers(server.url, 4, 'ment')
})
afterAll(() => server.stop())

const send = (roomId: number, user: TestUser, body: unknown) => call(server.url, `/api/chat/rooms/${roomId}/messages`, { token: user.token, body })
const edit = (roomId: number, messageId: number, user: TestUser, content: string) =>
  call(server.url, `/api/chat/rooms/${roomId}/messages/${messageId}`, { method: 'PATCH', token: user.token, body: { content } })
const roomOf = async (user: TestUser, roomId: number) => (await call(server.url, '/api/chat/rooms', { token: user.token })).body.find((r: any) => r.id === roomId)
const mentionsOf = async (user: TestUser, query = '') => {
  const res = await call(server.url, `/api/chat/mentions${query}`, { token: user.token })
  expect(res.status).toBe(200)
  return res.body as any[]
}

describe('mentions in messages', () => {
  it('names participants only, case-insensitively, ascending, and never an e-mail address', async () => {
    const room = await createRoom(server.url, alice, { participantIds: [bob.id, carol.id] })
    const res = await send(room.id, alice, { content: `@${carol.username.toUpperCase()}, @${bob.username}! @${dave.username} mail ${bob.username}@example.com` })
    expect(res.status).toBe(201)
    expect(res.body.mentions).toEqual([bob.id, carol.id].sort((a, b) => a - b))
    expect((await send(room.id, alice, { content: `x${bob.username}@${carol.username}.com` })).body.mentions).toEqual([])
  })

  it('edits recompute mentions: added and removed', async () => {
    const room = await createRoom(server.url, alice, { participantIds: [bob.id, carol.id] })
    const m = await post(server.url, alice, room.id, `hey @${bob.username}`)
    expect(m.mentions).toEqual([bob.id])
    const swapped = await edit(room.id, m.id, alice, `hey @${carol.username}`)
    expect(swapped.status).toBe(200)
    expect(swapped.body.mentions).toEqual([carol.id])
    expect((await edit(room.id, m.id, alice, 'hey all')).body.mentions).toEqual([])
    expect((await roomOf(bob, room.id)).mentionCount).toBe(0)
    expect((await roomOf(carol, room.id)).mentionCount).toBe(0)
    await edit(room.id, m.id, alice, `@${bob.username} again`)
    expect((await roomOf(bob, room.id)).mentionCount).toBe(1)
  })

  it('mentionCount goes up with mentions and down with reads and deletes', async () => {
    const room = await createRoom(server.url, alice, { participantIds: [bob.id] })
    expect((await roomOf(bob, room.id)).mentionCount).toBe(0)
    const one = await post(server.url, alice, room.id, `@${bob.username} one`)
    await post(server.url, alice, room.id, 'not you')
    const two = await post(server.url, alice, room.id, `two @${bob.username}`)
    const three = await post(server.url, alice, room.id, `three @${bob.username}`)
    expect((await roomOf(bob, room.id)).mentionCount).toBe(3)
    expect((await call(server.url, `/api/chat/rooms/${room.id}/read`, { token: bob.token, body: { messageId: one.id } })).status).toBe(204)
    expect((await roomOf(bob, room.id)).mentionCount).toBe(2)
    expect((await call(server.url, `/api/chat/rooms/${room.id}/messages/${two.id}`, { method: 'DELETE', token: alice.token })).status).toBe(204)
    const after = await roomOf(bob, room.id)
    expect(after.mentionCount).toBe(1)
    expect(after.unreadCount).toBe(2)
    await call(server.url, `/api/chat/rooms/${room.id}/read`, { token: bob.token, body: { messageId: three.id } })
    expect((await roomOf(bob, room.id)).mentionCount).toBe(0)
  })
})

describe('GET /api/chat/mentions', () => {
  it("lists the caller's mentions in rooms they are in, ascending, paging back with lastMessageId", async () => {
    const [x, y, z] = await newUsers(server.url, 3, 'mlist')
    const a = await createRoom(server.url, x!, { participantIds: [y!.id] })
    const b = await createRoom(server.url, x!, { participantIds: [y!.id, z!.id] })
    const ids: number[] = []
    for (let i = 0; i < 5; i++) {
      ids.push((await post(server.url, x!, i % 2 ? a.id : b.id, `@${y!.username} #${i}`)).id)
      await post(server.url, x!, b.id, `@${z!.username} not for y`)
    }
    expect((await mentionsOf(y!)).map((m) => m.id)).toEqual(ids)
    expect((await mentionsOf(y!, '?limit=2')).map((m) => m.id)).toEqual(ids.slice(3))
    expect((await mentionsOf(y!, `?limit=2&lastMessageId=${ids[3]}`)).map((m) => m.id)).toEqual(ids.slice(1, 3))
    // a room left is a room whose mentions are no longer the caller's
    await call(server.url, `/api/chat/rooms/${a.id}/leave`, { method: 'POST', token: y!.token })
    expect((await mentionsOf(y!)).map((m) => m.id)).toEqual(ids.filter((_, i) => i % 2 === 0))
    // deleted messages are gone from it
    await call(server.url, `/api/chat/rooms/${b.id}/messages/${ids[0]}`, { method: 'DELETE', token: x!.token })
    expect((await mentionsOf(y!)).map((m) => m.id)).toEqual([ids[2], ids[4]])
  })

  it('validates its query (naming the field) and needs a session', async () => {
    for (const [query, field] of [['?limit=0', 'limit'], ['?limit=x', 'limit'], ['?lastMessageId=0', 'lastMessageId'], ['?lastMessageId=-1', 'lastMessageId'], ['?lastMessageId=0x10', 'lastMessageId']]) {
      const res = await call(server.url, `/api/chat/mentions${query}`, { token: alice.token })
      expect([query, res.status]).toEqual([query, 400])
      expect(res.body.error.message).toContain(field)
    }
    expect((await call(server.url, '/api/chat/mentions?limit=5000', { token: alice.token })).status).toBe(200)
    expect((await call(server.url, '/api/chat/mentions')).status).toBe(401)
  })
})
