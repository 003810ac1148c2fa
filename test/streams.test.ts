import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { call, createRoom, newUsers, openStream, post, startServer, type TestServer, type TestUser } from './helpers'

let server: TestServer
let alice: TestUser, bob: TestUser, carol: TestUser
beforeAll(async () => {
  server = await startServer({ heartbeatIntervalMs: 300 })
  ;[alice, bob, carol] = await newUsers(server.url, 3, 'streams')
})
afterAll(() => server.stop())

const roomStream = (roomId: number, user: TestUser, headers?: Record<string, string>) =>
  openStream(server.url, `/api/chat/rooms/${roomId}/subscribe`, user.token, headers)
const userStream = (user: TestUser, headers?: Record<string, string>) => openStream(server.url, '/api/chat/stream', user.token, headers)

describe('wire format', () => {
  it('sends the SSE headers and a retry line first', async () => {
    const room = await createRoom(server.url, alice)
    const res = await fetch(`${server.url}/api/chat/rooms/${room.id}/subscribe`, { headers: { authorization: `Bearer ${alice.token}` } })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toStartWith('text/event-stream')
    expect(res.headers.get('cache-control')).toBe('no-cache')
    expect(res.headers.get('x-accel-buffering')).toBe('no')
    const reader = res.body!.getReader()
    const first = new TextDecoder().decode((await reader.read()).value)
    expect(first).toStartWith('retry: ')
    await reader.cancel()
  })

  it('delivers a message event with the message id as event id and the Message as data', async () => {
    const room = await createRoom(server.url, alice, { participantIds: [bob.id] })
    const stream = await roomStream(room.id, bob)
    const sent = await post(server.url, alice, room.id, 'line one\nline two "quoted"')
    const event = await stream.next((e) => e.event === 'message')
    expect(event.id).toBe(String(sent.id))
    expect(event.json).toEqual(sent)
    stream.close()
  })

  it('sends a ping comment every heartbeat interval', async () => {
    const room = await createRoom(server.url, alice)
    const stream = await roomStream(room.id, alice)
    const started = Date.now()
    await stream.until((s) => s.comments >= 3, 3000, 'three pings')
    // three pings at 300 ms: at least ~600 ms, well under a second and a half
    expect(Date.now() - started).toBeGreaterThanOrEqual(550)
    expect(Date.now() - started).toBeLessThan(1500)
    stream.close()
  })

  it('typing reaches the other participants (room and user streams) but not the typist', async () => {
    const room = await createRoom(server.url, alice, { participantIds: [bob.id] })
    const bobRoom = await roomStream(room.id, bob)
    const bobAll = await userStream(bob)
    const aliceAll = await userStream(alice)
    expect((await call(server.url, `/api/chat/rooms/${room.id}/typing`, { method: 'POST', token: alice.token })).status).toBe(204)
    expect((await bobRoom.next((e) => e.event === 'typing')).json).toEqual({ roomId: room.id, userId: alice.id })
    expect((await bobAll.next((e) => e.event === 'typing')).json).toEqual({ roomId: room.id, userId: alice.id })
    // alice's own stream gets the next message but never her typing event
    await post(server.url, bob, room.id, 'marker')
    await aliceAll.next((e) => e.event === 'message' && e.json.content === 'marker')
    expect(aliceAll.events.some((e) => e.event === 'typing')).toBe(false)
    for (const s of [bobRoom, bobAll, aliceAll]) s.close()
  })

  it('a read marker reaches the reader\'s other streams as a read event', async () => {
    const room = await createRoom(server.url, alice, { participantIds: [bob.id] })
    const m = await post(server.url, alice, room.id, 'unread')
    const tab2 = await userStream(bob)
    await call(server.url, `/api/chat/rooms/${room.id}/read`, { token: bob.token, body: { messageId: m.id } })
    expect((await tab2.next((e) => e.event === 'read')).json).toEqual({ roomId: room.id, userId: bob.id, messageId: m.id })
    tab2.close()
  })
})

describe('authorization', () => {
  it('no stream without a session, none of a private room of others', async () => {
    const room = await createRoom(server.url, alice)
    expect((await fetch(`${server.url}/api/chat/stream`)).status).toBe(401)
    const res = await call(server.url, `/api/chat/rooms/${room.id}/subscribe`, { token: carol.token })
    expect(res.status).toBe(404)
    expect(res.body.error.code).toBe('not_found')
  })

  it('the user stream carries nothing of rooms the user is not in', async () => {
    const secret = await createRoom(server.url, alice, { name: 'secret' })
    const shared = await createRoom(server.url, alice, { participantIds: [carol.id] })
    const carolAll = await userStream(carol)
    await call(server.url, `/api/chat/rooms/${secret.id}/typing`, { method: 'POST', token: alice.token })
    await post(server.url, alice, secret.id, 'not for carol')
    await post(server.url, alice, shared.id, 'for carol')
    await carolAll.next((e) => e.event === 'message' && e.json.content === 'for carol')
    expect(carolAll.events.every((e) => e.json.roomId !== secret.id)).toBe(true)
    carolAll.close()
  })

  it('subscribing to a public room joins it', async () => {
    const room = await createRoom(server.url, alice, { visibility: 'public' })
    const stream = await roomStream(room.id, carol)
    const join = await stream.next((e) => e.event === 'message')
    expect(join.json).toMatchObject({ messageType: 'JOIN', senderId: carol.id })
    expect((await call(server.url, `/api/chat/rooms/${room.id}`, { token: carol.token })).body.participants.map((u: any) => u.id)).toContain(carol.id)
    stream.close()
  })
})

describe('ordering under concurrency', () => {
  it('several posters and subscribers: every subscriber gets every id once, ascending', async () => {
    const room = await createRoom(server.url, alice, { participantIds: [bob.id, carol.id] })
    const subscribers = await Promise.all([roomStream(room.id, alice), roomStream(room.id, bob), userStream(carol), userStream(alice)])
    const posters = [alice, bob, carol]
    const sent = (
      await Promise.all(posters.map(async (u) => {
        const ids: number[] = []
        for (let i = 0; i < 40; i++) ids.push((await post(server.url, u, room.id, `${u.username} ${i}`)).id)
        return ids
      }))
    ).flat().sort((a, b) => a - b)
    for (const s of subscribers) {
      await s.until((x) => x.messageIds(room.id).length >= sent.length, 5000, 'all messages')
      expect(s.messageIds(room.id)).toEqual(sent)
      s.close()
    }
  })
})

describe('idle streams', () => {
  it('stay open for 30 s with no traffic at all, then still deliver', async () => {
    const quiet = await startServer({ heartbeatIntervalMs: 60_000 })
    try {
      const [u] = await newUsers(quiet.url, 1, 'idle')
      const room = await createRoom(quiet.url, u)
      const stream = await openStream(quiet.url, `/api/chat/rooms/${room.id}/subscribe`, u.token)
      await Bun.sleep(31_000) // the point of the test is the silence itself
      expect(stream.closed).toBe(false)
      const m = await post(quiet.url, u, room.id, 'still here')
      expect((await stream.next((e) => e.event === 'message')).json.id).toBe(m.id)
      stream.close()
    } finally {
      await quiet.stop()
    }
  }, 45_000)
})
