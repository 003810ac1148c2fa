import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { call, createRoom, newUser, newUsers, openStream, post, startServer, type SseEvent, type SseStream, type TestServer, type TestUser } from './helpers'

let server: TestServer
let alice: TestUser, bob: TestUser, carol: TestUser, dave: TestUser
beforeAll(async () => {
  server = await startServer()
  // The first account is the server's admin, who may delete in any room they are in: made
  // apart, so that the rules tested here are a member's.
  await newUser(server.url, 'convadmin')
  ;[alice, bob, carol, dave] = await newUsers(server.url, 4, 'conv')
})
afterAll(() => server.stop())

const messagePath = (roomId: number, messageId: number) => `/api/chat/rooms/${roomId}/messages/${messageId}`
const reactionPath = (roomId: number, messageId: number, emoji: string) => `${messagePath(roomId, messageId)}/reactions/${encodeURIComponent(emoji)}`
const edit = (roomId: number, messageId: number, user: TestUser | null, body: unknown) =>
  call(server.url, messagePath(roomId, messageId), { method: 'PATCH', token: user?.token, body })
const remove = (roomId: number, messageId: number, user: TestUser | null) => call(server.url, messagePath(roomId, messageId), { method: 'DELETE', token: user?.token })
const react = (roomId: number, messageId: number, user: TestUser | null, emoji: string, method: 'PUT' | 'DELETE' = 'PUT') =>
  call(server.url, reactionPath(roomId, messageId, emoji), { method, token: user?.token })
const history = async (roomId: number, user: TestUser) => (await call(server.url, `/api/chat/rooms/${roomId}/messages`, { token: user.token })).body as any[]
const send = (roomId: number, user: TestUser, body: unknown) => call(server.url, `/api/chat/rooms/${roomId}/messages`, { token: user.token, body })
const setLevel = (roomId: number, user: TestUser | null, body: unknown) => call(server.url, `/api/chat/rooms/${roomId}/notifications`, { method: 'PUT', token: user?.token, body })
const roomAs = async (roomId: number, user: TestUser) => (await call(server.url, `/api/chat/rooms/${roomId}`, { token: user.token })).body
const listed = async (roomId: number, user: TestUser) => (await call(server.url, '/api/chat/rooms', { token: user.token })).body.find((r: any) => r.id === roomId)

/** Posts a sentinel and returns the events `stream` received before it: what a change sent, if anything. */
async function eventsBefore(stream: SseStream, roomId: number, user: TestUser, from: number) {
  const sentinel = await post(server.url, user, roomId, `sentinel ${Math.random()}`)
  const isSentinel = (e: SseEvent) => e.event === 'message' && Number(e.id) === sentinel.id
  await stream.next(isSentinel)
  return stream.events.slice(from, stream.events.findIndex(isSentinel))
}

describe('the Message shape', () => {
  it('carries editedAt, replyToId, mentions, reactions and attachments', async () => {
    const room = await createRoom(server.url, alice)
    const res = await send(room.id, alice, { content: 'plain' })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ editedAt: null, replyToId: null, mentions: [], reactions: [], attachments: [] })
  })
})

describe('PATCH a message', () => {
  it('lets its sender edit: new content, editedAt set, the same id, history shows it, streams get message-updated', async () => {
    const room = await createRoom(server.url, alice, { participantIds: [bob.id] })
    const original = await post(server.url, alice, room.id, 'typo')
    const stream = await openStream(server.url, '/api/chat/stream', bob.token)
    const res = await edit(room.id, original.id, alice, { content: 'fixed' })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ id: original.id, content: 'fixed', createdAt: original.createdAt })
    expect(Date.parse(res.body.editedAt)).toBeGreaterThanOrEqual(Date.parse(original.createdAt))
    expect(res.body.editedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    const event = await stream.next((e) => e.event === 'message-updated')
    expect(Number(event.id)).toBeGreaterThan(original.id)
    expect(event.json).toEqual(res.body)
    expect((await history(room.id, bob)).map((m) => m.content)).toEqual(['fixed'])
    stream.close()
  })

  it.each([
    [{ content: '' }, 'content'],
    [{ content: '   ' }, 'content'],
    [{ content: 'x'.repeat(4001) }, 'content'],
    [{}, 'content'],
    [{ content: 7 }, 'content'],
  ])('rejects %j with 400 naming the field', async (body, field) => {
    const room = await createRoom(server.url, alice)
    const m = await post(server.url, alice, room.id, 'keep')
    const res = await edit(room.id, m.id, alice, body)
    expect(res.status).toBe(400)
    expect(res.body.error.message).toContain(field)
    expect((await history(room.id, alice))[0]).toMatchObject({ content: 'keep', editedAt: null })
  })

  it('is for its sender only (403), MESSAGEs only (400), and 404 for unknown, deleted or hidden ones', async () => {
    const room = await createRoom(server.url, alice, { participantIds: [bob.id] })
    const m = await post(server.url, alice, room.id, 'mine')
    expect((await edit(room.id, m.id, bob, { content: 'hijack' })).status).toBe(403)
    expect((await edit(room.id, m.id, null, { content: 'x' })).status).toBe(401)

    const pub = await createRoom(server.url, alice, { visibility: 'public' })
    const joined = await call(server.url, `/api/chat/rooms/${pub.id}/join`, { method: 'POST', token: bob.token })
    const join = (await history(pub.id, bob)).find((x) => x.messageType === 'JOIN')
    expect(joined.status).toBe(200)
    const joinEdit = await edit(pub.id, join.id, bob, { content: 'x' })
    expect(joinEdit.status).toBe(400)
    expect(joinEdit.body.error.message).toContain('messageId')

    const missing = await edit(room.id, 987_654_321, alice, { content: 'x' })
    expect(missing.status).toBe(404)
    const elsewhere = await createRoom(server.url, alice)
    expect((await edit(elsewhere.id, m.id, alice, { content: 'x' })).status).toBe(404)
    // a private room the caller cannot read: 404, exactly like a room that does not exist
    const hidden = await edit(room.id, m.id, carol, { content: 'x' })
    const noRoom = await edit(987_654, m.id, carol, { content: 'x' })
    expect(hidden.status).toBe(404)
    expect(hidden.body).toEqual(noRoom.body)
    expect((await remove(room.id, m.id, alice)).status).toBe(204)
    expect((await edit(room.id, m.id, alice, { content: 'x' })).status).toBe(404)
  })

  it('rejects ids that are not plain positive integers with 400 naming messageId', async () => {
    const room = await createRoom(server.url, alice)
    for (const id of ['0', '-1', 'abc', '0x10', '1e3', '1.5', '99999999999999999999']) {
      const res = await call(server.url, `/api/chat/rooms/${room.id}/messages/${id}`, { method: 'PATCH', token: alice.token, body: { content: 'x' } })
      expect([id, res.status]).toEqual([id, 400])
      expect([id, res.body.error.message]).toEqual([id, expect.stringContaining('messageId')])
    }
  })
})

describe('DELETE a message', () => {
  it('by its sender: 204, gone from history and the room list, streams get message-deleted; again -> 404', async () => {
    const room = await createRoom(server.url, alice, { participantIds: [bob.id] })
    const first = await post(server.url, bob, room.id, 'first')
    const second = await post(server.url, bob, room.id, 'second')
    const stream = await openStream(server.url, `/api/chat/rooms/${room.id}/subscribe`, alice.token)
    expect((await listed(room.id, alice)).unreadCount).toBe(2)
    expect((await remove(room.id, second.id, bob)).status).toBe(204)
    const event = await stream.next((e) => e.event === 'message-deleted')
    expect(Number(event.id)).toBeGreaterThan(second.id)
    expect(event.json).toEqual({ roomId: room.id, messageId: second.id })
    expect((await history(room.id, alice)).map((m) => m.id)).toEqual([first.id])
    const summary = await listed(room.id, alice)
    expect(summary.lastMessage.id).toBe(first.id)
    expect(summary.unreadCount).toBe(1)
    const again = await remove(room.id, second.id, bob)
    expect(again.status).toBe(404)
    expect(again.body.error.code).toBe('not_found')
    stream.close()
  })

  it('by the room owner: 204; by another participant: 403; by an outsider: 404; without a session: 401', async () => {
    const room = await createRoom(server.url, alice, { participantIds: [bob.id, carol.id] })
    const byBob = await post(server.url, bob, room.id, 'bob says')
    const other = await remove(room.id, byBob.id, carol)
    expect(other.status).toBe(403)
    expect(other.body.error.code).toBe('forbidden')
    expect((await remove(room.id, byBob.id, dave)).status).toBe(404)
    expect((await remove(room.id, byBob.id, null)).status).toBe(401)
    expect((await remove(room.id, byBob.id, alice)).status).toBe(204)
    expect(await history(room.id, bob)).toEqual([])
  })

  it('in a direct room, only the sender: neither of the two deletes the other\'s words (403)', async () => {
    const direct = (await call(server.url, `/api/chat/users/${bob.id}/rooms`, { method: 'POST', token: alice.token })).body
    const [lower, higher] = alice.id < bob.id ? [alice, bob] : [bob, alice]
    expect(direct.ownerId).toBe(lower.id)
    const fromHigher = await post(server.url, higher, direct.id, 'mine to take back')
    expect((await remove(direct.id, fromHigher.id, lower)).status).toBe(403)
    expect((await remove(direct.id, fromHigher.id, higher)).status).toBe(204)
  })

  it('in a public room, a reader who is not in it cannot delete (403)', async () => {
    const room = await createRoom(server.url, alice, { visibility: 'public' })
    const m = await post(server.url, alice, room.id, 'public words')
    expect((await remove(room.id, m.id, dave)).status).toBe(403)
    expect((await remove(room.id, 987_654_321, alice)).status).toBe(404)
  })
})

describe('reactions', () => {
  it('PUT adds and DELETE takes back, counted per emoji in first-use order with userIds ascending', async () => {
    const room = await createRoom(server.url, alice, { participantIds: [bob.id, carol.id] })
    const m = await post(server.url, alice, room.id, 'react to me')
    const [first, second] = [bob, carol].sort((a, b) => b.id - a.id)
    expect((await react(room.id, m.id, first!, '🎉')).body.reactions).toEqual([{ emoji: '🎉', count: 1, userIds: [first!.id] }])
    await react(room.id, m.id, second!, '+1')
    const both = await react(room.id, m.id, second!, '🎉')
    expect(both.status).toBe(200)
    expect(both.body.reactions).toEqual([
      { emoji: '🎉', count: 2, userIds: [second!.id, first!.id] },
      { emoji: '+1', count: 1, userIds: [second!.id] },
    ])
    const taken = await react(room.id, m.id, second!, '+1', 'DELETE')
    expect(taken.status).toBe(200)
    expect(taken.body.reactions).toEqual([{ emoji: '🎉', count: 2, userIds: [second!.id, first!.id] }])
    expect((await history(room.id, alice))[0].reactions).toEqual(taken.body.reactions)
  })

  it('sends message-updated for a change and nothing at all for a no-op', async () => {
    const room = await createRoom(server.url, alice, { participantIds: [bob.id] })
    const m = await post(server.url, alice, room.id, 'idempotent')
    const stream = await openStream(server.url, '/api/chat/stream', alice.token)
    const added = await react(room.id, m.id, bob, '👍')
    const update = await stream.next((e) => e.event === 'message-updated')
    expect(update.json).toEqual(added.body)
    const from = stream.events.length
    const repeat = await react(room.id, m.id, bob, '👍')
    expect(repeat.status).toBe(200)
    expect(repeat.body).toEqual(added.body)
    const notGiven = await react(room.id, m.id, bob, '🙂', 'DELETE')
    expect(notGiven.status).toBe(200)
    expect(notGiven.body.reactions).toEqual(added.body.reactions)
    expect((await eventsBefore(stream, room.id, alice, from)).map((e) => e.event)).toEqual([])
    stream.close()
  })

  it.each([
    ['white space', ' '],
    ['inner space', 'a b'],
    ['a tab', '\t'],
    ['a control character', 'x\u0001'],
    ['a line break', 'x\ny'],
    ['17 code points', '😀'.repeat(17)],
  ])('rejects %s with 400 naming emoji', async (_, emoji) => {
    const room = await createRoom(server.url, alice)
    const m = await post(server.url, alice, room.id, 'x')
    const res = await react(room.id, m.id, alice, emoji)
    expect(res.status).toBe(400)
    expect(res.body.error.message).toContain('emoji')
  })

  it('accepts any text of up to 16 code points, URL-decoded', async () => {
    const room = await createRoom(server.url, alice)
    const m = await post(server.url, alice, room.id, 'x')
    for (const emoji of ['😀'.repeat(16), '👩‍👩‍👧', 'ok', 'a/b', '%', '🇺🇦']) {
      const res = await react(room.id, m.id, alice, emoji)
      expect([emoji, res.status]).toEqual([emoji, 200])
      expect(res.body.reactions.map((r: any) => r.emoji)).toContain(emoji)
    }
    for (const raw of ['%E0%A4%A', '%ZZ', '%FF']) {
      const malformed = await call(server.url, `${messagePath(room.id, m.id)}/reactions/${raw}`, { method: 'PUT', token: alice.token })
      expect([raw, malformed.status]).toEqual([raw, 400])
      expect(malformed.body.error.message).toContain('emoji')
    }
    expect((await history(room.id, alice))[0].reactions.length).toBe(6)
  })

  it('participants only: a public room reader 403, a private room outsider 404, no session 401, unknown message 404', async () => {
    const pub = await createRoom(server.url, alice, { visibility: 'public' })
    const m = await post(server.url, alice, pub.id, 'x')
    expect((await react(pub.id, m.id, dave, '👍')).status).toBe(403)
    expect((await react(pub.id, m.id, dave, '👍', 'DELETE')).status).toBe(403)
    const priv = await createRoom(server.url, alice)
    const p = await post(server.url, alice, priv.id, 'x')
    const hidden = await react(priv.id, p.id, dave, '👍')
    expect(hidden.status).toBe(404)
    expect(hidden.body).toEqual((await react(987_654, p.id, dave, '👍')).body)
    expect((await react(priv.id, p.id, null, '👍')).status).toBe(401)
    expect((await react(priv.id, 987_654_321, alice, '👍')).status).toBe(404)
    expect((await react(pub.id, p.id, alice, '👍')).status).toBe(404)
  })
})

describe('replies', () => {
  it('replyToId names a message of the same room that is not deleted, else 400 naming replyToId', async () => {
    const room = await createRoom(server.url, alice, { participantIds: [bob.id] })
    const other = await createRoom(server.url, alice)
    const original = await post(server.url, alice, room.id, 'question?')
    const reply = await send(room.id, bob, { content: 'answer', replyToId: original.id })
    expect(reply.status).toBe(201)
    expect(reply.body.replyToId).toBe(original.id)
    expect((await history(room.id, alice)).at(-1).replyToId).toBe(original.id)

    const foreign = await post(server.url, alice, other.id, 'elsewhere')
    const gone = await post(server.url, alice, room.id, 'soon gone')
    await remove(room.id, gone.id, alice)
    for (const replyToId of [foreign.id, gone.id, 987_654_321, 0, -1, 'x', 1.5]) {
      const res = await send(room.id, bob, { content: 'answer', replyToId })
      expect([replyToId, res.status]).toEqual([replyToId, 400])
      expect(res.body.error.message).toContain('replyToId')
    }
  })

  it('a reply outlives its original: replyToId stays, the original is gone', async () => {
    const room = await createRoom(server.url, alice)
    const original = await post(server.url, alice, room.id, 'to be deleted')
    const reply = (await send(room.id, alice, { content: 'reply', replyToId: original.id })).body
    await remove(room.id, original.id, alice)
    expect(await history(room.id, alice)).toEqual([reply])
  })
})

describe('notification levels', () => {
  it('default to all for direct rooms, mentions for group rooms, none for a reader who is not in the room', async () => {
    const group = await createRoom(server.url, alice, { visibility: 'public', participantIds: [bob.id] })
    expect((await roomAs(group.id, alice)).notificationLevel).toBe('mentions')
    expect((await listed(group.id, bob)).notificationLevel).toBe('mentions')
    expect((await roomAs(group.id, dave)).notificationLevel).toBe('none')
    const direct = (await call(server.url, `/api/chat/users/${carol.id}/rooms`, { method: 'POST', token: dave.token })).body
    expect(direct.notificationLevel).toBe('all')
    expect((await listed(direct.id, carol)).notificationLevel).toBe('all')
    expect((await roomAs(group.id, alice)).mentionCount).toBe(0)
  })

  it('PUT changes the caller\'s level only (204), as the room and the room list then show', async () => {
    const room = await createRoom(server.url, alice, { participantIds: [bob.id] })
    for (const level of ['none', 'all', 'mentions', 'all']) {
      expect((await setLevel(room.id, bob, { level })).status).toBe(204)
      expect((await roomAs(room.id, bob)).notificationLevel).toBe(level)
      expect((await listed(room.id, bob)).notificationLevel).toBe(level)
    }
    expect((await roomAs(room.id, alice)).notificationLevel).toBe('mentions')
  })

  it('validates the level (400 naming it), and is for participants only', async () => {
    const room = await createRoom(server.url, alice, { visibility: 'public' })
    for (const body of [{ level: 'loud' }, {}, { level: null }, { level: 1 }]) {
      const res = await setLevel(room.id, alice, body)
      expect([body, res.status]).toEqual([body, 400])
      expect(res.body.error.message).toContain('level')
    }
    expect((await setLevel(room.id, dave, { level: 'all' })).status).toBe(403)
    const priv = await createRoom(server.url, alice)
    const hidden = await setLevel(priv.id, dave, { level: 'all' })
    expect(hidden.status).toBe(404)
    expect(hidden.body).toEqual((await setLevel(987_654, dave, { level: 'all' })).body)
    expect((await setLevel(priv.id, null, { level: 'all' })).status).toBe(401)
  })
})
