import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { call, createRoom, eventually, newUsers, openStream, post, startServer, type TestServer, type TestUser } from './helpers'

let server: TestServer
let alice: TestUser, bob: TestUser, carol: TestUser
beforeAll(async () => {
  server = await startServer()
  ;[alice, bob, carol] = await newUsers(server.url, 3, 'life')
})
afterAll(() => server.stop())

const userStream = (user: TestUser) => openStream(server.url, '/api/chat/stream', user.token)
const send = (path: string, user: TestUser, body?: unknown, method = 'POST') => call(server.url, path, { method, token: user.token, body })

describe('the user stream follows membership while connected', () => {
  it('a room created with the user, a joined room and an added room start flowing at once', async () => {
    const stream = await userStream(carol)
    const created = await createRoom(server.url, alice, { participantIds: [carol.id] })
    expect((await stream.next((e) => e.event === 'room-created')).json.roomId).toBe(created.id)
    const m1 = await post(server.url, alice, created.id, 'in created')
    expect((await stream.next((e) => e.event === 'message')).json.id).toBe(m1.id)

    const pub = await createRoom(server.url, alice, { visibility: 'public' })
    await send(`/api/chat/rooms/${pub.id}/join`, carol)
    expect((await stream.next((e) => e.event === 'room-created')).json.roomId).toBe(pub.id)
    expect((await stream.next((e) => e.event === 'message')).json).toMatchObject({ roomId: pub.id, messageType: 'JOIN', senderId: carol.id })

    const group = await createRoom(server.url, alice)
    await send(`/api/chat/rooms/${group.id}/participants`, alice, { userId: carol.id })
    expect((await stream.next((e) => e.event === 'room-created')).json.roomId).toBe(group.id)
    expect((await stream.next((e) => e.event === 'message')).json).toMatchObject({ roomId: group.id, messageType: 'JOIN' })
    const m2 = await post(server.url, alice, group.id, 'in added')
    expect((await stream.next((e) => e.event === 'message')).json.id).toBe(m2.id)
    stream.close()
  })

  it('other participants get room-updated when someone joins', async () => {
    const pub = await createRoom(server.url, alice, { visibility: 'public' })
    const stream = await userStream(alice)
    await send(`/api/chat/rooms/${pub.id}/join`, bob)
    expect((await stream.next((e) => e.event === 'room-updated')).json.roomId).toBe(pub.id)
    stream.close()
  })

  it('leaving stops the room at once: room-deleted, then nothing more of it', async () => {
    const room = await createRoom(server.url, alice, { participantIds: [bob.id] })
    const other = await createRoom(server.url, alice, { participantIds: [bob.id] })
    const stream = await userStream(bob)
    const roomStream = await openStream(server.url, `/api/chat/rooms/${room.id}/subscribe`, bob.token)
    expect((await send(`/api/chat/rooms/${room.id}/leave`, bob)).status).toBe(204)
    expect((await stream.next((e) => e.event === 'room-deleted')).json.roomId).toBe(room.id)
    await roomStream.ended()
    expect(roomStream.events.at(-1)!.event).toBe('room-deleted')
    await post(server.url, alice, room.id, 'after leaving')
    const marker = await post(server.url, alice, other.id, 'marker')
    await stream.next((e) => e.event === 'message' && e.json.id === marker.id)
    expect(stream.events.some((e) => e.event === 'message' && e.json.roomId === room.id)).toBe(false)
    stream.close()
  })

  it('deleting a room sends room-deleted to every stream and ends its room streams', async () => {
    const room = await createRoom(server.url, alice, { participantIds: [bob.id] })
    const bobAll = await userStream(bob)
    const bobRoom = await openStream(server.url, `/api/chat/rooms/${room.id}/subscribe`, bob.token)
    expect((await send(`/api/chat/rooms/${room.id}`, alice, undefined, 'DELETE')).status).toBe(204)
    expect((await bobAll.next((e) => e.event === 'room-deleted')).json.roomId).toBe(room.id)
    await bobRoom.ended()
    expect(bobRoom.events.at(-1)).toMatchObject({ event: 'room-deleted', json: { roomId: room.id } })
    expect(bobAll.closed).toBe(false)
    bobAll.close()
  })

  it('a new direct room appears on both users\' streams', async () => {
    const [x, y] = await newUsers(server.url, 2, 'dmlive')
    const xs = await userStream(x)
    const ys = await userStream(y)
    const res = await send(`/api/chat/users/${y.id}/rooms`, x)
    expect((await xs.next((e) => e.event === 'room-created')).json.roomId).toBe(res.body.id)
    expect((await ys.next((e) => e.event === 'room-created')).json.roomId).toBe(res.body.id)
    const m = await post(server.url, x, res.body.id, 'hi')
    expect((await ys.next((e) => e.event === 'message')).json.id).toBe(m.id)
    xs.close()
    ys.close()
  })
})

describe('sessions and presence', () => {
  it('logout closes the streams of that session only', async () => {
    const second = await call(server.url, '/api/auth/login', { body: { username: bob.username, password: 'password-123' } })
    const [fresh] = await newUsers(server.url, 1, 'logout')
    const login = await call(server.url, '/api/auth/login', { body: { username: fresh.username, password: 'password-123' } })
    const doomed = await openStream(server.url, '/api/chat/stream', fresh.token)
    const kept = await openStream(server.url, '/api/chat/stream', login.body.token)
    expect((await call(server.url, '/api/auth/logout', { method: 'POST', token: fresh.token })).status).toBe(204)
    await doomed.ended()
    expect(kept.closed).toBe(false)
    kept.close()
    expect(second.status).toBe(200)
  })

  it('online is true while the user has a stream and false soon after the last one closes', async () => {
    const [u, watcher] = await newUsers(server.url, 2, 'presence')
    const onlineOf = async () => (await call(server.url, `/api/chat/users?q=${u.username}`, { token: watcher.token })).body[0].online as boolean
    expect(await onlineOf()).toBe(false)
    const a = await openStream(server.url, '/api/chat/stream', u.token)
    const b = await openStream(server.url, '/api/chat/stream', u.token)
    expect(await onlineOf()).toBe(true)
    a.close()
    await eventually(async () => (await onlineOf()) === true, 1000, 'still online with one stream')
    b.close()
    await eventually(async () => (await onlineOf()) === false, 5000, 'offline after the last stream')
  })

  it('the metrics count streams, messages and deliveries', async () => {
    const room = await createRoom(server.url, alice)
    const stream = await openStream(server.url, `/api/chat/rooms/${room.id}/subscribe`, alice.token)
    const m = await post(server.url, alice, room.id, 'counted')
    await stream.next((e) => e.json?.id === m.id)
    const text = (await call(server.url, '/metrics')).body as string
    expect(Number(/^chat_streams_open (\d+)/m.exec(text)![1])).toBeGreaterThanOrEqual(1)
    expect(Number(/^chat_messages_stored_total (\d+)/m.exec(text)![1])).toBeGreaterThanOrEqual(1)
    expect(Number(/^chat_events_delivered_total (\d+)/m.exec(text)![1])).toBeGreaterThanOrEqual(1)
    expect(text).toMatch(/^chat_delivery_latency_seconds_bucket\{le="0.005"\} \d+/m)
    expect(text).toMatch(/^http_requests_total\{method="POST",route="\/api\/chat\/rooms\/:roomId\/messages",status="201"\} \d+/m)
    expect(text).toMatch(/^http_request_duration_seconds_count\{method="GET",route="\/api\/chat\/rooms\/:roomId\/subscribe"\} \d+/m)
    stream.close()
  })
})
