import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { Database } from 'bun:sqlite'
import { join } from 'node:path'
import { MIGRATIONS } from '../src/store/migrations'
import { call, createRoom, eventually, newUser, openStream, post, startServer, tempDir, type TestServer, type TestUser } from './helpers'
import { adminAndMember, anotherSession, createToken, login, onDatabase, openAsOtherProcess, setUser } from './support/accounts'

let server: TestServer
let admin: TestUser
let member: TestUser
beforeAll(async () => {
  server = await startServer()
  ;({ admin, member } = await adminAndMember(server.url, 'adm'))
})
afterAll(() => server.stop())

const me = async (user: TestUser) => call(server.url, '/api/auth/me', { token: user.token })

describe('roles', () => {
  it('makes the first account of a server its admin and every later one a member', async () => {
    expect((await me(admin)).body.user).toMatchObject({ role: 'admin', deactivated: false })
    expect((await me(member)).body.user).toMatchObject({ role: 'member', deactivated: false })
  })

  it('makes exactly one admin when the first registrations race', async () => {
    const fresh = await startServer()
    try {
      const users = await Promise.all(Array.from({ length: 6 }, () => newUser(fresh.url, 'race')))
      const roles = await Promise.all(users.map(async (u) => (await call(fresh.url, '/api/auth/me', { token: u.token })).body.user.role))
      expect(roles.filter((r) => r === 'admin')).toHaveLength(1)
    } finally {
      await fresh.stop()
    }
  })

  it('promotes and demotes; the last active admin can be neither demoted nor deactivated (409)', async () => {
    const other = await newUser(server.url, 'admpromo')
    expect((await setUser(server.url, admin, other.id, { role: 'admin' })).body).toMatchObject({ id: other.id, role: 'admin' })
    // The new admin's session sees the role at once (no cached copy of the account).
    expect((await call(server.url, '/api/admin/users', { token: other.token })).status).toBe(200)
    expect((await setUser(server.url, other, other.id, { role: 'member' })).status).toBe(200)
    expect((await call(server.url, '/api/admin/users', { token: other.token })).status).toBe(403)

    const demote = await setUser(server.url, admin, admin.id, { role: 'member' })
    expect(demote.status).toBe(409)
    expect(demote.body.error.code).toBe('conflict')
    expect((await setUser(server.url, admin, admin.id, { deactivated: true })).status).toBe(409)
    expect((await me(admin)).body.user).toMatchObject({ role: 'admin', deactivated: false })
  })

  it('lets exactly one of two admins demoting each other at once succeed', async () => {
    const fresh = await startServer()
    try {
      const { admin: a, member: b } = await adminAndMember(fresh.url, 'duel')
      expect((await setUser(fresh.url, a, b.id, { role: 'admin' })).status).toBe(200)
      const [one, two] = await Promise.all([setUser(fresh.url, a, b.id, { role: 'member' }), setUser(fresh.url, b, a.id, { role: 'member' })])
      // The loser is refused by the last-admin rule (409), or, when the winner's demotion landed
      // before its request was even authorized, as the member it has become (403).
      expect([one.status, two.status].filter((s) => s === 200)).toHaveLength(1)
      expect([409, 403]).toContain(one.status === 200 ? two.status : one.status)
      const admins = (await call(fresh.url, '/api/admin/users', { token: one.status === 200 ? a.token : b.token })).body.filter((u: any) => u.role === 'admin')
      expect(admins).toHaveLength(1)
    } finally {
      await fresh.stop()
    }
  })

  it('refuses a role for a bot (400), an unknown role or field (400), an unknown user (404)', async () => {
    const bot = await call(server.url, '/api/admin/bots', { token: admin.token, body: { username: `admrole_bot_${Date.now() % 1e6}` } })
    expect((await setUser(server.url, admin, bot.body.user.id, { role: 'admin' })).status).toBe(400)
    expect((await setUser(server.url, admin, member.id, { role: 'bot' })).status).toBe(400)
    expect((await setUser(server.url, admin, member.id, { role: 'owner' })).status).toBe(400)
    expect((await setUser(server.url, admin, member.id, { deactivated: 'yes' } as any)).status).toBe(400)
    const unknown = await setUser(server.url, admin, 987654, { role: 'admin' })
    expect(unknown.status).toBe(404)
    expect(unknown.body.error.code).toBe('not_found')
  })

  it('lets an admin who is a participant delete anyone\'s message', async () => {
    const author = await newUser(server.url, 'admdel')
    const room = await createRoom(server.url, author, { participantIds: [admin.id, member.id] })
    const words = await post(server.url, author, room.id, 'moderate me')
    const path = `/api/chat/rooms/${room.id}/messages/${words.id}`
    expect((await call(server.url, path, { method: 'DELETE', token: member.token })).status).toBe(403)
    expect((await call(server.url, path, { method: 'DELETE', token: admin.token })).status).toBe(204)
  })
})

describe('GET /api/admin/users', () => {
  it('lists every account by id, deactivated ones included, with q, limit and afterId', async () => {
    const gone = await newUser(server.url, 'admlistgone')
    expect((await setUser(server.url, admin, gone.id, { deactivated: true })).body.deactivated).toBe(true)
    const all = (await call(server.url, '/api/admin/users?limit=200', { token: admin.token })).body as any[]
    expect(all.map((u) => u.id)).toEqual([...all.map((u) => u.id)].sort((a, b) => a - b))
    expect(all.find((u) => u.id === gone.id)).toMatchObject({ deactivated: true })
    const page = (await call(server.url, `/api/admin/users?limit=2&afterId=${admin.id}`, { token: admin.token })).body as any[]
    expect(page.map((u) => u.id)).toEqual(all.filter((u) => u.id > admin.id).slice(0, 2).map((u) => u.id))
    const found = (await call(server.url, `/api/admin/users?q=${gone.username.toUpperCase()}`, { token: admin.token })).body as any[]
    expect(found.map((u) => u.id)).toEqual([gone.id])
    // The people picker leaves them out.
    const picker = (await call(server.url, `/api/chat/users?q=${gone.username}`, { token: member.token })).body as any[]
    expect(picker).toEqual([])
  })

  it('is for signed-in admins only: 401 without a session, 403 for a member and for an admin\'s access token', async () => {
    expect((await call(server.url, '/api/admin/users')).status).toBe(401)
    expect((await call(server.url, '/api/admin/users', { token: member.token })).status).toBe(403)
    const token = await createToken(server.url, admin)
    const reply = await call(server.url, '/api/admin/users', { token: token.token })
    expect(reply.status).toBe(403)
    expect(reply.body.error.code).toBe('forbidden')
    expect((await call(server.url, '/api/admin/users?limit=0', { token: admin.token })).status).toBe(400)
    expect((await call(server.url, '/api/admin/users?afterId=-1', { token: admin.token })).status).toBe(400)
  })
})

describe('deactivation', () => {
  it('ends sessions, tokens and streams at once; sign-in answers as for a wrong password; messages and memberships stay', async () => {
    const user = await newUser(server.url, 'admdeact')
    const second = await anotherSession(server.url, user)
    const token = await createToken(server.url, user)
    const room = await createRoom(server.url, admin, { participantIds: [user.id] })
    const said = await post(server.url, user, room.id, 'still here after I go')
    const streams = [await openStream(server.url, '/api/chat/stream', user.token), await openStream(server.url, `/api/chat/rooms/${room.id}/subscribe`, token.token)]

    const reply = await setUser(server.url, admin, user.id, { deactivated: true })
    expect(reply.status).toBe(200)
    expect(reply.body).toMatchObject({ id: user.id, deactivated: true })
    await Promise.all(streams.map((s) => s.ended(2000)))
    for (const t of [user.token, second.token, token.token]) expect((await call(server.url, '/api/auth/me', { token: t })).status).toBe(401)

    const wrong = await login(server.url, user.username, 'not-the-password')
    const deactivated = await login(server.url, user.username)
    expect(deactivated.status).toBe(401)
    expect(deactivated.body).toEqual(wrong.body)

    const seen = (await call(server.url, `/api/chat/rooms/${room.id}`, { token: admin.token })).body
    expect(seen.participants.find((p: any) => p.id === user.id)).toMatchObject({ deactivated: true })
    const history = (await call(server.url, `/api/chat/rooms/${room.id}/messages`, { token: admin.token })).body as any[]
    expect(history.map((m) => m.id)).toContain(said.id)

    expect((await setUser(server.url, admin, user.id, { deactivated: false })).body.deactivated).toBe(false)
    expect((await login(server.url, user.username)).status).toBe(200)
    // Reactivation does not bring back what deactivation ended.
    expect((await call(server.url, '/api/auth/me', { token: token.token })).status).toBe(401)
  })

  it('keeps a deactivated user out of new conversations (404 to add or open a direct room, 400 as a new room\'s participant) until reactivated', async () => {
    const user = await newUser(server.url, 'admgone')
    const room = await createRoom(server.url, member)
    expect((await setUser(server.url, admin, user.id, { deactivated: true })).status).toBe(200)

    const added = await call(server.url, `/api/chat/rooms/${room.id}/participants`, { method: 'POST', token: member.token, body: { userId: user.id } })
    expect(added.status).toBe(404)
    expect(added.body.error.code).toBe('not_found')
    expect((await call(server.url, `/api/chat/users/${user.id}/rooms`, { method: 'POST', token: member.token })).status).toBe(404)
    const created = await call(server.url, '/api/chat/rooms', { method: 'POST', token: member.token, body: { name: 'with the gone', participantIds: [user.id] } })
    expect(created.status).toBe(400)
    expect(created.body.error.message).toContain('participantIds')
    const seen = (await call(server.url, `/api/chat/rooms/${room.id}`, { token: member.token })).body
    expect(seen.participants.map((p: any) => p.id)).toEqual([member.id])

    expect((await setUser(server.url, admin, user.id, { deactivated: false })).status).toBe(200)
    expect((await call(server.url, `/api/chat/rooms/${room.id}/participants`, { method: 'POST', token: member.token, body: { userId: user.id } })).status).toBe(200)
    expect((await call(server.url, `/api/chat/users/${user.id}/rooms`, { method: 'POST', token: member.token })).status).toBe(201)
  })

  it('made by another process on the database reaches a running server within a second: sessions, its cache and streams', async () => {
    const user = await newUser(server.url, 'admcli')
    const stream = await openStream(server.url, '/api/chat/stream', user.token)
    // Used once, so a session cache would hold it.
    expect((await me(user)).status).toBe(200)
    const other = await openAsOtherProcess(server.config)
    try {
      const started = performance.now()
      await other.admin.setDeactivated(user.id, true)
      await stream.ended(2500)
      const ms = performance.now() - started
      expect(ms).toBeLessThan(2500)
      expect((await me(user)).status).toBe(401)
      // And a role given there is seen here as well.
      const promoted = await newUser(server.url, 'admclipromo')
      expect((await call(server.url, '/api/admin/users', { token: promoted.token })).status).toBe(403)
      await other.admin.setRole(promoted.id, 'admin')
      await eventually(async () => (await call(server.url, '/api/admin/users', { token: promoted.token })).status === 200, 2500, 'the role seen by the server')
    } finally {
      await other.close()
    }
  })
})

describe('password reset links', () => {
  it('makes a one-time link that signs in with the new password and ends the other sessions', async () => {
    const user = await newUser(server.url, 'admreset')
    const stream = await openStream(server.url, '/api/chat/stream', user.token)
    const token = await createToken(server.url, user)
    const made = await call(server.url, `/api/admin/users/${user.id}/password-reset`, { method: 'POST', token: admin.token })
    expect(made.status).toBe(201)
    expect(made.body.url).toBe(`${server.url}/reset#${made.body.token}`)
    const hours = (Date.parse(made.body.expiresAt) - Date.now()) / 3_600_000
    expect(hours).toBeGreaterThan(23.9)
    expect(hours).toBeLessThanOrEqual(24)

    const used = await call(server.url, '/api/auth/reset', { body: { token: made.body.token, newPassword: 'a-new-password' } })
    expect(used.status).toBe(200)
    expect(used.body.user.id).toBe(user.id)
    expect(used.headers.get('set-cookie')).toContain('chat_session=')
    expect((await call(server.url, '/api/auth/me', { token: used.body.token })).status).toBe(200)
    await stream.ended(2000)
    expect((await me(user)).status).toBe(401)
    // Access tokens are not sessions: a script keeps working.
    expect((await call(server.url, '/api/auth/me', { token: token.token })).status).toBe(200)
    expect((await login(server.url, user.username, 'a-new-password')).status).toBe(200)
    expect((await login(server.url, user.username)).status).toBe(401)

    const again = await call(server.url, '/api/auth/reset', { body: { token: made.body.token, newPassword: 'another-password' } })
    expect(again.status).toBe(400)
    expect(again.body.error.message).toStartWith('token:')
  })

  it('refuses an unknown, expired or superseded link (400), a short password (400), a bot (400), a deactivated user (409), an unknown user (404)', async () => {
    const user = await newUser(server.url, 'admreset2')
    const reset = async () => (await call(server.url, `/api/admin/users/${user.id}/password-reset`, { method: 'POST', token: admin.token })).body.token as string
    const use = (token: string, newPassword = 'a-new-password') => call(server.url, '/api/auth/reset', { body: { token, newPassword } })
    expect((await use('x'.repeat(43))).status).toBe(400)
    const first = await reset()
    const second = await reset()
    expect((await use(first)).status).toBe(400)
    expect((await use(second, 'short')).status).toBe(400)
    await onDatabase(server.config, 'UPDATE password_resets SET expires_at = ? WHERE user_id = ?', Date.now() - 1, user.id)
    expect((await use(second)).status).toBe(400)

    const bot = await call(server.url, '/api/admin/bots', { token: admin.token, body: { username: `admreset_bot_${Date.now() % 1e6}` } })
    expect((await call(server.url, `/api/admin/users/${bot.body.user.id}/password-reset`, { method: 'POST', token: admin.token })).status).toBe(400)
    const pending = await reset()
    await setUser(server.url, admin, user.id, { deactivated: true })
    expect((await call(server.url, `/api/admin/users/${user.id}/password-reset`, { method: 'POST', token: admin.token })).status).toBe(409)
    // Deactivation voided the pending link too.
    await setUser(server.url, admin, user.id, { deactivated: false })
    expect((await use(pending)).status).toBe(400)
    expect((await call(server.url, '/api/admin/users/987654/password-reset', { method: 'POST', token: admin.token })).status).toBe(404)
    expect((await call(server.url, `/api/admin/users/${user.id}/password-reset`, { method: 'POST', token: member.token })).status).toBe(403)
  })

  it('uses PUBLIC_URL for the link when it is set', async () => {
    const fresh = await startServer({ publicUrl: 'https://chat.example.com' })
    try {
      const { admin: a, member: m } = await adminAndMember(fresh.url, 'pub')
      const made = await call(fresh.url, `/api/admin/users/${m.id}/password-reset`, { method: 'POST', token: a.token })
      expect(made.body.url).toBe(`https://chat.example.com/reset#${made.body.token}`)
    } finally {
      await fresh.stop()
    }
  })
})

describe('bots', () => {
  it('makes a bot user with a token for the chat routes; it cannot sign in with a password', async () => {
    const username = `admbot_${Date.now() % 1e6}`
    const made = await call(server.url, '/api/admin/bots', { token: admin.token, body: { username, displayName: 'Deploy Bot', webhookUrl: 'https://hooks.example.com/x' } })
    expect(made.status).toBe(201)
    expect(made.body.user).toMatchObject({ username, displayName: 'Deploy Bot', role: 'bot', deactivated: false })
    const bot = { id: made.body.user.id, username, token: made.body.token as string }
    const room = await createRoom(server.url, admin, { participantIds: [bot.id] })
    expect((await post(server.url, bot, room.id, 'beep')).senderId).toBe(bot.id)
    const stream = await openStream(server.url, '/api/chat/stream', bot.token)
    for (const password of ['', 'password-123']) expect((await login(server.url, username, password)).status).toBe(401)
    expect((await call(server.url, '/api/auth/tokens', { token: bot.token, body: { name: 'more' } })).status).toBe(403)
    expect((await call(server.url, '/api/admin/users', { token: bot.token })).status).toBe(403)

    expect((await call(server.url, `/api/admin/bots/${bot.id}`, { method: 'DELETE', token: admin.token })).status).toBe(204)
    await stream.ended(2000)
    expect((await call(server.url, '/api/auth/me', { token: bot.token })).status).toBe(401)
    expect((await call(server.url, `/api/admin/bots/${bot.id}`, { method: 'DELETE', token: admin.token })).status).toBe(204)
  })

  it('refuses a taken name (409), a bad name or webhookUrl (400), a member (403), a user who is not a bot (404)', async () => {
    const bots = (body: unknown, token = admin.token) => call(server.url, '/api/admin/bots', { token, body })
    expect((await bots({ username: member.username })).status).toBe(409)
    expect((await bots({ username: 'x' })).status).toBe(400)
    for (const webhookUrl of ['ftp://example.com/', 'not a url', 'javascript:alert(1)']) expect((await bots({ username: `admbadhook_${Date.now() % 1e6}`, webhookUrl })).status).toBe(400)
    expect((await bots({ username: `admbotm_${Date.now() % 1e6}` }, member.token)).status).toBe(403)
    expect((await call(server.url, `/api/admin/bots/${member.id}`, { method: 'DELETE', token: admin.token })).status).toBe(404)
    expect((await call(server.url, '/api/admin/bots/987654', { method: 'DELETE', token: admin.token })).status).toBe(404)
  })
})

describe('upgrading a database from before accounts had roles', () => {
  // About the SQLite file: an old one's schema (its user_version) upgraded in place. PostgreSQL
  // has no database from before accounts had roles.
  it.skipIf(process.env.CHAT_TEST_STORE === 'postgres')('makes its oldest account the admin and keeps every session', async () => {
    const path = join(tempDir(), 'chat.db')
    const old = new Database(path, { create: true })
    // The schema as it was before migration 6 (accounts), with two users and a session each.
    const before = MIGRATIONS.findIndex((step) => step.includes('ALTER TABLE users ADD COLUMN role'))
    for (const step of MIGRATIONS.slice(0, before)) old.run(step)
    old.run(`PRAGMA user_version = ${before}`)
    const hash = (token: string) => new Bun.CryptoHasher('sha256').update(token).digest()
    const tokens = ['old-session-of-the-first-user-0001', 'old-session-of-the-second-user-002']
    for (const [i, name] of ['first', 'second'].entries()) {
      old.query(`INSERT INTO users (username, display_name, password_hash, created_at) VALUES (?, ?, 'x', ?)`).run(name, name, i + 1)
      old.query(`INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, 1, ?)`).run(hash(tokens[i]!), i + 1, Date.now() + 86_400_000)
    }
    old.close()
    const upgraded = await startServer({ databasePath: path })
    try {
      const roles = await Promise.all(tokens.map(async (token) => (await call(upgraded.url, '/api/auth/me', { token })).body.user?.role))
      expect(roles).toEqual(['admin', 'member'])
    } finally {
      await upgraded.stop()
    }
  })
})
