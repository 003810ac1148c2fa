import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { connect } from 'node:net'
import { call, createRoom, newUsers, post, startServer, type TestServer, type TestUser } from './helpers'

let server: TestServer
let alice: TestUser, mallory: TestUser
let roomId: number
let privateRoomId: number
beforeAll(async () => {
  server = await startServer()
  ;[alice, mallory] = await newUsers(server.url, 2, 'hostile')
  roomId = (await createRoom(server.url, alice, { name: 'target', visibility: 'public' })).id
  privateRoomId = (await createRoom(server.url, alice, { name: 'secret' })).id
  await post(server.url, alice, roomId, 'precious data')
  await post(server.url, alice, privateRoomId, 'private data')
})
afterAll(() => server.stop())

interface Hostile {
  name: string
  method?: string
  path: string
  as?: 'alice' | 'mallory' | 'nobody'
  headers?: Record<string, string>
  body?: BodyInit
  status: number
}

const json = { 'content-type': 'application/json' }
const big = 'x'.repeat(70 * 1024)

const CASES: Hostile[] = [
  { name: 'no session on a chat route', path: '/api/chat/rooms', as: 'nobody', status: 401 },
  { name: 'garbage bearer token', path: '/api/chat/rooms', as: 'nobody', headers: { authorization: 'Bearer ../../etc/passwd' }, status: 401 },
  { name: 'malformed authorization header', path: '/api/chat/rooms', as: 'nobody', headers: { authorization: 'Basic YTpi' }, status: 401 },
  { name: 'huge bearer token', path: '/api/chat/rooms', as: 'nobody', headers: { authorization: `Bearer ${'a'.repeat(4000)}` }, status: 401 },
  { name: 'cookie with junk', path: '/api/chat/rooms', as: 'nobody', headers: { cookie: 'chat_session=%00%ff;;==' }, status: 401 },
  { name: 'malformed JSON', method: 'POST', path: '/api/chat/rooms/ROOM/messages', headers: json, body: '{"content":', status: 400 },
  { name: 'JSON array body', method: 'POST', path: '/api/chat/rooms/ROOM/messages', headers: json, body: '[1,2]', status: 400 },
  { name: 'JSON string body', method: 'POST', path: '/api/chat/rooms/ROOM/messages', headers: json, body: '"hello"', status: 400 },
  { name: 'JSON null body', method: 'POST', path: '/api/chat/rooms/ROOM/messages', headers: json, body: 'null', status: 400 },
  { name: 'text/plain body', method: 'POST', path: '/api/chat/rooms/ROOM/messages', headers: { 'content-type': 'text/plain' }, body: '{"content":"x"}', status: 415 },
  { name: 'form body', method: 'POST', path: '/api/chat/rooms/ROOM/messages', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'content=x', status: 415 },
  { name: 'multipart body', method: 'POST', path: '/api/chat/rooms/ROOM/messages', headers: { 'content-type': 'multipart/form-data; boundary=x' }, body: '--x--', status: 415 },
  { name: 'no content type', method: 'POST', path: '/api/chat/rooms/ROOM/messages', headers: {}, body: '{"content":"x"}', status: 415 },
  { name: 'body over 64 KiB', method: 'POST', path: '/api/chat/rooms/ROOM/messages', headers: json, body: JSON.stringify({ content: big }), status: 413 },
  { name: 'content of wrong type', method: 'POST', path: '/api/chat/rooms/ROOM/messages', headers: json, body: '{"content":{"$gt":""}}', status: 400 },
  { name: 'content too long', method: 'POST', path: '/api/chat/rooms/ROOM/messages', headers: json, body: JSON.stringify({ content: 'y'.repeat(4001) }), status: 400 },
  { name: 'prototype pollution', method: 'POST', path: '/api/chat/rooms', headers: json, body: '{"__proto__":{"admin":true},"constructor":{"prototype":{"x":1}}}', status: 400 },
  { name: 'server-only messageType', method: 'POST', path: '/api/chat/rooms/ROOM/messages', headers: json, body: '{"content":"x","messageType":"LEAVE"}', status: 400 },
  { name: 'non-numeric room id', path: '/api/chat/rooms/abc', status: 400 },
  { name: 'zero room id', path: '/api/chat/rooms/0', status: 400 },
  { name: 'negative room id', path: '/api/chat/rooms/-1', status: 400 },
  { name: 'fractional room id', path: '/api/chat/rooms/1.5', status: 400 },
  { name: 'huge room id', path: '/api/chat/rooms/99999999999999999999999', status: 400 },
  { name: 'hex room id', path: '/api/chat/rooms/0x10', status: 400 },
  { name: 'SQL in room id', path: "/api/chat/rooms/1%20OR%201=1", status: 400 },
  { name: 'path traversal', path: '/api/chat/rooms/..%2F..%2Fetc%2Fpasswd', status: 400 },
  { name: 'bad lastMessageId cursor', path: '/api/chat/rooms/ROOM/messages?lastMessageId=1;DROP%20TABLE%20messages', status: 400 },
  { name: 'limit out of range', path: '/api/chat/rooms/ROOM/messages?limit=-100', status: 400 },
  { name: 'bad Last-Event-ID header', path: '/api/chat/rooms/ROOM/subscribe', headers: { 'last-event-id': 'abc' }, status: 400 },
  { name: 'bad lastEventId query', path: '/api/chat/stream?lastEventId=-1', status: 400 },
  { name: 'private room of someone else', as: 'mallory', path: '/api/chat/rooms/PRIVATE/messages', status: 404 },
  { name: 'posting to a private room of someone else', as: 'mallory', method: 'POST', path: '/api/chat/rooms/PRIVATE/messages', headers: json, body: '{"content":"pwned"}', status: 404 },
  { name: 'deleting someone else\'s room', as: 'mallory', method: 'DELETE', path: '/api/chat/rooms/ROOM', status: 403 },
  { name: 'adding self to a private room', as: 'mallory', method: 'POST', path: '/api/chat/rooms/PRIVATE/participants', headers: json, body: '{"userId":2}', status: 404 },
  { name: 'spoofing userId in the room list', as: 'mallory', path: '/api/chat/rooms?userId=ALICE', status: 403 },
  { name: 'cross-site cookie write', as: 'nobody', method: 'POST', path: '/api/chat/rooms', headers: { ...json, origin: 'https://evil.example', cookie: 'chat_session=MALLORY' }, body: '{"name":"x"}', status: 403 },
  { name: 'unknown route', path: '/api/chat/../../admin', status: 404 },
  { name: 'unknown method', method: 'PATCH', path: '/api/chat/rooms/ROOM', status: 404 },
  { name: 'username with control characters', as: 'nobody', method: 'POST', path: '/api/auth/register', headers: json, body: '{"username":"a\\u0000b\\nc","password":"password-123"}', status: 400 },
  { name: 'login with object password', as: 'nobody', method: 'POST', path: '/api/auth/login', headers: json, body: '{"username":"alice","password":{"$ne":null}}', status: 400 },
  { name: 'deeply nested JSON', method: 'POST', path: '/api/chat/rooms', headers: json, body: '['.repeat(5000) + ']'.repeat(5000), status: 400 },
]

function resolve(text: string) {
  return text
    .replace('ROOM', String(roomId))
    .replace('PRIVATE', String(privateRoomId))
    .replace('ALICE', String(alice.id))
    .replace('MALLORY', mallory.token)
}

describe('hostile requests', () => {
  it.each(CASES.map((c) => [c.name, c] as const))('%s -> 4xx JSON error', async (_name, c) => {
    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(c.headers ?? {})) headers[k] = resolve(v)
    const as = c.as ?? 'alice'
    if (as !== 'nobody') headers.authorization ??= `Bearer ${(as === 'alice' ? alice : mallory).token}`
    const res = await fetch(server.url + resolve(c.path), { method: c.method ?? 'GET', headers, body: c.body })
    const text = await res.text()
    expect(res.status).toBe(c.status)
    expect(res.headers.get('content-type')).toContain('application/json')
    const body = JSON.parse(text)
    expect(typeof body.error.code).toBe('string')
    expect(typeof body.error.message).toBe('string')
    expect(text).not.toMatch(/at .*\.ts:\d+|stack|sqlite/i)
  })

  it('a chunked body over the limit is cut off with 413 without Content-Length', async () => {
    const chunks = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 80; i++) controller.enqueue(new TextEncoder().encode(i === 0 ? '{"content":"' : 'z'.repeat(1024)))
        controller.close()
      },
    })
    const res = await fetch(`${server.url}/api/chat/rooms/${roomId}/messages`, {
      method: 'POST',
      headers: { ...json, authorization: `Bearer ${alice.token}` },
      body: chunks,
    })
    expect(res.status).toBe(413)
  })

  it('a raw malformed HTTP request does not take the server down', async () => {
    const port = Number(new URL(server.url).port)
    await new Promise<void>((done) => {
      const socket = connect(port, '127.0.0.1', () => socket.end('GARBAGE / HTTP/9.9\r\nHost\r\n\r\n'))
      socket.on('data', () => {})
      socket.on('close', () => done())
      socket.on('error', () => done())
    })
    expect((await call(server.url, '/healthz')).status).toBe(200)
  })

  it('after all of it the server serves and the earlier data is intact', async () => {
    expect((await call(server.url, '/healthz')).status).toBe(200)
    const history = await call(server.url, `/api/chat/rooms/${roomId}/messages`, { token: alice.token })
    expect(history.body.map((m: any) => m.content)).toEqual(['precious data'])
    const secret = await call(server.url, `/api/chat/rooms/${privateRoomId}/messages`, { token: alice.token })
    expect(secret.body.map((m: any) => m.content)).toEqual(['private data'])
    const rooms = await call(server.url, '/api/chat/rooms', { token: mallory.token })
    expect(rooms.body).toEqual([])
  })
})
