import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { call, createRoom, newUser, openStream, startServer, type TestServer, type TestUser } from './helpers'
import { adminAndMember, createToken, onDatabase } from './support/accounts'

let server: TestServer
let admin: TestUser
let member: TestUser
beforeAll(async () => {
  server = await startServer()
  ;({ admin, member } = await adminAndMember(server.url, 'tok'))
})
afterAll(() => server.stop())

const DAY_MS = 86_400_000
const list = (user: { token: string }) => call(server.url, '/api/auth/tokens', { token: user.token })
const revoke = (user: { token: string }, id: number) => call(server.url, `/api/auth/tokens/${id}`, { method: 'DELETE', token: user.token })

describe('access tokens', () => {
  it('are made once (the token only in that answer), listed without it, newest first', async () => {
    const user = await newUser(server.url, 'tokmake')
    const forever = await createToken(server.url, user, { name: '  backup script ' })
    expect(forever).toMatchObject({ name: 'backup script', expiresAt: null, lastUsedAt: null })
    expect(forever.token.length).toBeGreaterThanOrEqual(22)
    const weekly = await createToken(server.url, user, { name: 'weekly', expiresInDays: 7 })
    expect(Math.abs(Date.parse(weekly.expiresAt) - (Date.now() + 7 * DAY_MS))).toBeLessThan(60_000)
    const listed = (await list(user)).body as any[]
    expect(listed.map((t) => t.id)).toEqual([weekly.id, forever.id])
    expect(listed[0]).toEqual({ id: weekly.id, name: 'weekly', createdAt: weekly.createdAt, expiresAt: weekly.expiresAt, lastUsedAt: null })
    expect(JSON.stringify(listed)).not.toContain(forever.token)
    // Another user's list is their own.
    expect((await list(member)).body.map((t: any) => t.id)).not.toContain(forever.id)
  })

  it('act as their user on the chat routes: reading, writing, streams, the account', async () => {
    const user = await newUser(server.url, 'tokuse')
    const { token } = await createToken(server.url, user)
    const bearer = { token }
    const room = await createRoom(server.url, admin, { participantIds: [user.id] })
    expect((await call(server.url, '/api/chat/rooms', bearer)).status).toBe(200)
    const posted = await call(server.url, `/api/chat/rooms/${room.id}/messages`, { ...bearer, body: { content: 'from a script' } })
    expect(posted.status).toBe(201)
    expect(posted.body.senderId).toBe(user.id)
    expect((await call(server.url, `/api/chat/rooms/${room.id}/messages`, bearer)).status).toBe(200)
    expect((await call(server.url, `/api/chat/users?q=${user.username}`, bearer)).status).toBe(200)
    const stream = await openStream(server.url, '/api/chat/stream', token)
    stream.close()
    expect((await call(server.url, '/api/auth/me', bearer)).body.user.id).toBe(user.id)
    expect((await list(bearer)).status).toBe(200)
  })

  it('cannot create tokens, change the password or reach /api/admin/* (403), even an admin\'s', async () => {
    const { token } = await createToken(server.url, admin)
    const bearer = { token }
    const refused = [
      await call(server.url, '/api/auth/tokens', { ...bearer, body: { name: 'another' } }),
      await call(server.url, '/api/auth/password', { ...bearer, body: { currentPassword: 'password-123', newPassword: 'a-better-password' } }),
      await call(server.url, '/api/admin/users', bearer),
      await call(server.url, '/api/admin/invites', { ...bearer, body: {} }),
      await call(server.url, `/api/admin/users/${member.id}`, { ...bearer, method: 'PATCH', body: { deactivated: true } }),
    ]
    expect(refused.map((r) => r.status)).toEqual([403, 403, 403, 403, 403])
    expect(refused.every((r) => r.body.error.code === 'forbidden')).toBe(true)
    expect((await call(server.url, '/api/auth/me', { token: member.token })).status).toBe(200)
  })

  it('record their last use, written at most once a minute', async () => {
    const user = await newUser(server.url, 'toklast')
    const made = await createToken(server.url, user)
    const before = Date.now()
    expect((await call(server.url, '/api/auth/me', { token: made.token })).status).toBe(200)
    const first = ((await list(user)).body as any[])[0].lastUsedAt
    expect(Date.parse(first)).toBeGreaterThanOrEqual(before - 1000)
    // A use 30 s after the last one (aged in the database) is not written again; past a minute it is.
    await onDatabase(server.config, 'UPDATE sessions SET last_used_at = ? WHERE id = ?', Date.now() - 30_000, made.id)
    const aged = ((await list(user)).body as any[])[0].lastUsedAt
    await call(server.url, '/api/chat/rooms', { token: made.token })
    expect(((await list(user)).body as any[])[0].lastUsedAt).toBe(aged)
    await onDatabase(server.config, 'UPDATE sessions SET last_used_at = ? WHERE id = ?', Date.now() - 61_000, made.id)
    // The session cache (single instance) keeps a token for up to a minute; a new one is read afresh.
    const fresh = await createToken(server.url, user, { name: 'fresh' })
    await onDatabase(server.config, 'UPDATE sessions SET last_used_at = ? WHERE id = ?', Date.now() - 61_000, fresh.id)
    await call(server.url, '/api/chat/rooms', { token: fresh.token })
    const touched = ((await list(user)).body as any[]).find((t) => t.id === fresh.id).lastUsedAt
    expect(Date.now() - Date.parse(touched)).toBeLessThan(10_000)
  })

  it('stop working when revoked, and the streams opened with them end; another user\'s token is 404', async () => {
    const user = await newUser(server.url, 'tokrevoke')
    const made = await createToken(server.url, user)
    const kept = await createToken(server.url, user, { name: 'kept' })
    const stream = await openStream(server.url, '/api/chat/stream', made.token)
    const sessionStream = await openStream(server.url, '/api/chat/stream', user.token)
    expect((await revoke(member, made.id)).status).toBe(404)
    expect((await call(server.url, '/api/auth/me', { token: made.token })).status).toBe(200)
    expect((await revoke(user, made.id)).status).toBe(204)
    await stream.ended(2000)
    expect((await call(server.url, '/api/auth/me', { token: made.token })).status).toBe(401)
    expect((await call(server.url, '/api/auth/me', { token: kept.token })).status).toBe(200)
    expect(sessionStream.closed).toBe(false)
    sessionStream.close()
    expect((await revoke(user, made.id)).status).toBe(404)
    // A session id is not a token id.
    expect((await revoke(user, 987654)).status).toBe(404)
    expect((await revoke(user, 0)).status).toBe(400)
    expect((await call(server.url, `/api/auth/tokens/${kept.id}`, { method: 'DELETE' })).status).toBe(401)
    // A token may revoke itself.
    expect((await revoke({ token: kept.token }, kept.id)).status).toBe(204)
  })

  it('expire', async () => {
    const user = await newUser(server.url, 'tokexp')
    const made = await createToken(server.url, user, { name: 'short', expiresInDays: 1 })
    await onDatabase(server.config, 'UPDATE sessions SET expires_at = ? WHERE id = ?', Date.now() - 1, made.id)
    // A fresh server process has no cached copy of it.
    const fresh = await startServer({ databasePath: server.config.databasePath })
    try {
      expect((await call(fresh.url, '/api/auth/me', { token: made.token })).status).toBe(401)
      expect((await call(fresh.url, '/api/auth/tokens', { token: user.token })).body).toEqual([])
    } finally {
      await fresh.stop()
    }
  })

  it('are at most 200 live per user (409), so the list shows them all; an expired one does not count', async () => {
    const user = await newUser(server.url, 'tokmax')
    // 199 tokens written straight to the database, in one statement (multi-row VALUES: both stores).
    const rows = Array.from({ length: 199 }, () => [crypto.getRandomValues(new Uint8Array(32)), user.id, Date.now()])
    const values = rows.map(() => "(?, ?, 'token', 'bulk', ?, NULL)").join(', ')
    await onDatabase(server.config, `INSERT INTO sessions (token_hash, user_id, kind, name, created_at, expires_at) VALUES ${values}`, ...rows.flat())
    const last = await createToken(server.url, user, { name: 'the 200th' })
    const refused = await call(server.url, '/api/auth/tokens', { token: user.token, body: { name: 'one more' } })
    expect(refused.status).toBe(409)
    expect(refused.body.error.code).toBe('conflict')
    expect((await list(user)).body).toHaveLength(200)

    await onDatabase(server.config, 'UPDATE sessions SET expires_at = ? WHERE id = ?', Date.now() - 1, last.id)
    expect((await call(server.url, '/api/auth/tokens', { token: user.token, body: { name: 'in its place' } })).status).toBe(201)
  })

  it('validate their fields (400 naming them)', async () => {
    for (const body of [{ name: '' }, { name: '  ' }, { name: 'x'.repeat(65) }, {}, { name: 'x', expiresInDays: 0 }, { name: 'x', expiresInDays: 3651 }, { name: 'x', expiresInDays: 1.5 }]) {
      const reply = await call(server.url, '/api/auth/tokens', { token: member.token, body })
      expect({ body, status: reply.status }).toEqual({ body, status: 400 })
      expect(reply.body.error.message).toMatch(/^(name|expiresInDays)/)
    }
    expect((await call(server.url, '/api/auth/tokens', { body: { name: 'x' } })).status).toBe(401)
    expect((await call(server.url, '/api/auth/tokens')).status).toBe(401)
  })
})
