import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { call, newUser, startServer, type TestServer } from './helpers'
import { onDatabase, queryDatabase } from './support/accounts'

let server: TestServer
beforeAll(async () => (server = await startServer()))
afterAll(() => server.stop())

const register = (body: unknown) => call(server.url, '/api/auth/register', { body })
const login = (body: unknown) => call(server.url, '/api/auth/login', { body })

describe('register', () => {
  it('creates a user, lower-cases the username, returns a token and sets the session cookie', async () => {
    const res = await register({ username: 'Alice_Reg', password: 'password-123', displayName: 'Alice A.' })
    expect(res.status).toBe(201)
    expect(res.body.user).toMatchObject({ username: 'alice_reg', displayName: 'Alice A.', online: false })
    expect(res.body.user.id).toBeGreaterThan(0)
    expect(res.body.user.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
    expect(res.body.token.length).toBeGreaterThanOrEqual(22)
    const cookie = res.headers.get('set-cookie')!
    expect(cookie).toContain(`chat_session=${res.body.token}`)
    expect(cookie).toContain('HttpOnly')
    expect(cookie).toContain('SameSite=Lax')
  })

  it('defaults displayName to the username', async () => {
    const res = await register({ username: 'bob_reg', password: 'password-123' })
    expect(res.body.user.displayName).toBe('bob_reg')
  })

  it('refuses a taken username whatever its case with 409', async () => {
    await register({ username: 'carol_reg', password: 'password-123' })
    const res = await register({ username: 'CAROL_reg', password: 'password-123' })
    expect(res.status).toBe(409)
    expect(res.body.error.code).toBe('conflict')
  })

  it.each([
    [{ username: 'ab', password: 'password-123' }, 'username'],
    [{ username: 'a'.repeat(33), password: 'password-123' }, 'username'],
    [{ username: 'bad name', password: 'password-123' }, 'username'],
    [{ username: 'émile', password: 'password-123' }, 'username'],
    [{ username: 'shortpw', password: 'short' }, 'password'],
    [{ username: 'longpw', password: 'x'.repeat(129) }, 'password'],
    [{ username: 'blankname', password: 'password-123', displayName: '   ' }, 'displayName'],
    [{ username: 'longname', password: 'password-123', displayName: 'x'.repeat(65) }, 'displayName'],
    [{ password: 'password-123' }, 'username'],
    [{ username: 'nopw' }, 'password'],
    [{ username: 42, password: 'password-123' }, 'username'],
  ])('answers 400 naming the field for %j', async (body, field) => {
    const res = await register(body)
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe('validation_failed')
    expect(res.body.error.message).toContain(field)
  })

  it('counts password length in code points', async () => {
    // 8 emoji are 16 UTF-16 units but 8 characters: long enough.
    const res = await register({ username: 'emoji_pw', password: '😀'.repeat(8) })
    expect(res.status).toBe(201)
  })

  it('is refused with 403 when registration is closed', async () => {
    const closed = await startServer({ allowRegistration: false })
    try {
      const res = await call(closed.url, '/api/auth/register', { body: { username: 'nobody', password: 'password-123' } })
      expect(res.status).toBe(403)
      expect(res.body.error.code).toBe('forbidden')
    } finally {
      await closed.stop()
    }
  })
})

describe('login', () => {
  it('returns a new token and cookie for the right password, case-insensitive username', async () => {
    await register({ username: 'dave_login', password: 'password-123' })
    const res = await login({ username: 'DAVE_login', password: 'password-123' })
    expect(res.status).toBe(200)
    expect(res.body.user.username).toBe('dave_login')
    expect(res.headers.get('set-cookie')).toContain('HttpOnly')
  })

  it('gives the same 401 for a wrong password and an unknown user', async () => {
    await register({ username: 'erin_login', password: 'password-123' })
    const wrong = await login({ username: 'erin_login', password: 'wrong-password' })
    const unknown = await login({ username: 'nobody_here', password: 'password-123' })
    expect(wrong.status).toBe(401)
    expect(unknown.status).toBe(401)
    expect(wrong.body).toEqual(unknown.body)
  })
})

describe('sessions', () => {
  it('me answers the user for a bearer token and 401 without one', async () => {
    const user = await newUser(server.url)
    const me = await call(server.url, '/api/auth/me', { token: user.token })
    expect(me.status).toBe(200)
    expect(me.body.user.id).toBe(user.id)
    const anonymous = await call(server.url, '/api/auth/me')
    expect(anonymous.status).toBe(401)
    expect(anonymous.body.error.code).toBe('unauthorized')
    expect((await call(server.url, '/api/auth/me', { token: 'x'.repeat(43) })).status).toBe(401)
  })

  it('accepts the session cookie', async () => {
    const user = await newUser(server.url)
    const res = await call(server.url, '/api/chat/rooms', { headers: { cookie: `chat_session=${user.token}` } })
    expect(res.status).toBe(200)
  })

  it('refuses a cookie-authenticated write from another origin, accepts same origin', async () => {
    const user = await newUser(server.url)
    const host = new URL(server.url).host
    const cross = await call(server.url, '/api/chat/rooms', { body: { name: 'x' }, headers: { cookie: `chat_session=${user.token}`, origin: 'https://evil.example' } })
    expect(cross.status).toBe(403)
    const same = await call(server.url, '/api/chat/rooms', { body: { name: 'x' }, headers: { cookie: `chat_session=${user.token}`, origin: `http://${host}` } })
    expect(same.status).toBe(201)
  })

  it('logout ends that session only', async () => {
    const user = await newUser(server.url)
    const second = await login({ username: user.username, password: 'password-123' })
    const out = await call(server.url, '/api/auth/logout', { method: 'POST', token: user.token })
    expect(out.status).toBe(204)
    expect((await call(server.url, '/api/auth/me', { token: user.token })).status).toBe(401)
    expect((await call(server.url, '/api/auth/me', { token: second.body.token })).status).toBe(200)
  })

  it('deletes a user\'s expired sessions when they next sign in, and keeps the live ones', async () => {
    const user = await newUser(server.url, 'expiring')
    const live = await login({ username: user.username, password: 'password-123' })
    // Ids as numbers: PostgreSQL gives int8 as strings.
    const ids = async () => (await queryDatabase<{ id: number | string }>(server.config, 'SELECT id FROM sessions WHERE user_id = ? ORDER BY id', user.id)).map((r) => Number(r.id))
    const [first, second] = await ids()
    await onDatabase(server.config, 'UPDATE sessions SET expires_at = ? WHERE id = ?', Date.now() - 1, first!)
    expect((await call(server.url, '/api/auth/me', { token: user.token })).status).toBe(401)

    const third = await login({ username: user.username, password: 'password-123' })
    expect(third.status).toBe(200)
    expect(await ids()).toEqual([second!, expect.any(Number)])
    expect((await call(server.url, '/api/auth/me', { token: live.body.token })).status).toBe(200)
  })

  it('stores passwords as argon2id hashes and tokens only as hashes', async () => {
    const user = await newUser(server.url, 'stored')
    const [row] = await queryDatabase<{ password_hash: string }>(server.config, 'SELECT password_hash FROM users WHERE id = ?', user.id)
    expect(row!.password_hash).toStartWith('$argon2id$')
    const sessions = await queryDatabase<{ token_hash: Uint8Array }>(server.config, 'SELECT token_hash FROM sessions WHERE user_id = ?', user.id)
    expect(sessions.length).toBe(1)
    expect(Buffer.from(sessions[0]!.token_hash).toString()).not.toContain(user.token)
    expect(sessions[0]!.token_hash.byteLength).toBe(32)
  })
})

describe('sign-in throttling', () => {
  it('answers 429 with Retry-After after ten attempts on one account within a minute', async () => {
    await register({ username: 'frank_guess', password: 'password-123' })
    const codes: number[] = []
    for (let i = 0; i < 11; i++) codes.push((await login({ username: 'frank_guess', password: `guess-${i}-xx` })).status)
    expect(codes.slice(0, 10).every((c) => c === 401)).toBe(true)
    const limited = await login({ username: 'frank_guess', password: 'password-123' })
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
  })
})
