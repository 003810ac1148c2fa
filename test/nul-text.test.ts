import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { call, newUser, startServer, type TestServer, type TestUser } from './helpers'

/**
 * U+0000 in text: PostgreSQL cannot store it, so both stores refuse it the same way, with a
 * 400 naming it, and store nothing (never a 500 on one store and a 201 on the other).
 */
describe('NUL characters in text', () => {
  let server: TestServer
  let alice: TestUser
  let roomId: number

  beforeAll(async () => {
    server = await startServer()
    alice = await newUser(server.url, 'nulalice')
    roomId = (await call(server.url, '/api/chat/rooms', { token: alice.token, body: { name: 'nul', participantIds: [] } })).body.id
  })
  afterAll(() => server.stop())

  it('refuses a message, a display name, a room name or a token name holding one; stores nothing', async () => {
    const attempts = [
      call(server.url, `/api/chat/rooms/${roomId}/messages`, { token: alice.token, body: { content: 'a\u0000b' } }),
      call(server.url, '/api/auth/me', { method: 'PATCH', token: alice.token, body: { displayName: 'A\u0000' } }),
      call(server.url, '/api/chat/rooms', { token: alice.token, body: { name: '\u0000', participantIds: [] } }),
      call(server.url, '/api/auth/tokens', { token: alice.token, body: { name: 'x\u0000' } }),
      call(server.url, '/api/auth/register', { body: { username: 'nulbob', password: 'password-123', displayName: 'B\u0000' } }),
    ]
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(400)
      expect(res.body.error.code).toBe('validation_failed')
      expect(res.body.error.message).toContain('NUL')
    }
    const history = await call(server.url, `/api/chat/rooms/${roomId}/messages`, { token: alice.token })
    expect(history.body).toEqual([])
    expect((await call(server.url, '/api/auth/login', { body: { username: 'nulbob', password: 'password-123' } })).status).toBe(401)
  })

  it('refuses one in a query (search, user look-up)', async () => {
    for (const path of ['/api/chat/search?q=a%00b', '/api/chat/users?q=%00']) {
      const res = await call(server.url, path, { token: alice.token })
      expect(res.status).toBe(400)
      expect(res.body.error.message).toContain('NUL')
    }
  })

  it('still takes a backslash followed by u0000 as text (an escaped backslash is no NUL)', async () => {
    const res = await call(server.url, `/api/chat/rooms/${roomId}/messages`, { token: alice.token, body: { content: 'a \\u0000 b' } })
    expect(res.status).toBe(201)
    expect(res.body.content).toBe('a \\u0000 b')
  })
})
