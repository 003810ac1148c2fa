import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { call, createRoom, newUser, openStream, startServer, type TestServer, type TestUser } from './helpers'
import { adminAndMember, anotherSession, createToken, login, PASSWORD } from './support/accounts'

let server: TestServer
let admin: TestUser
beforeAll(async () => {
  server = await startServer()
  ;({ admin } = await adminAndMember(server.url, 'acct'))
})
afterAll(() => server.stop())

const rename = (user: { token: string }, body: unknown) => call(server.url, '/api/auth/me', { method: 'PATCH', token: user.token, body })
const changePassword = (user: { token: string }, body: unknown) => call(server.url, '/api/auth/password', { token: user.token, body })

describe('PATCH /api/auth/me', () => {
  it('changes the display name, as the user and the rooms then show', async () => {
    const user = await newUser(server.url, 'acctname')
    const room = await createRoom(server.url, admin, { participantIds: [user.id] })
    const reply = await rename(user, { displayName: '  Chloé 🎉  ' })
    expect(reply.status).toBe(200)
    expect(reply.body.user).toMatchObject({ id: user.id, username: user.username, displayName: 'Chloé 🎉', role: 'member' })
    expect((await call(server.url, '/api/auth/me', { token: user.token })).body.user.displayName).toBe('Chloé 🎉')
    const seen = (await call(server.url, `/api/chat/rooms/${room.id}`, { token: admin.token })).body
    expect(seen.participants.find((p: any) => p.id === user.id).displayName).toBe('Chloé 🎉')
    // An access token acts as its user here.
    const token = await createToken(server.url, user)
    expect((await rename(token, { displayName: 'By Script' })).body.user.displayName).toBe('By Script')
  })

  for (const body of [{ displayName: '' }, { displayName: '   ' }, { displayName: 'x'.repeat(65) }, {}, { displayName: 7 }, { displayName: 'ok', role: 'admin' }]) {
    it(`rejects ${JSON.stringify(body)} with 400 naming the field`, async () => {
      const user = await newUser(server.url, 'acctbad')
      const reply = await rename(user, body)
      expect(reply.status).toBe(400)
      expect(reply.body.error.message).toMatch(/displayName|role/)
    })
  }

  it('needs a session (401)', async () => {
    expect((await call(server.url, '/api/auth/me', { method: 'PATCH', body: { displayName: 'x' } })).status).toBe(401)
  })
})

describe('POST /api/auth/password', () => {
  it('changes the password; every other session ends at once with its streams, this one and access tokens stay', async () => {
    const user = await newUser(server.url, 'acctpw')
    const other = await anotherSession(server.url, user)
    const token = await createToken(server.url, user)
    const otherStream = await openStream(server.url, '/api/chat/stream', other.token)
    const ownStream = await openStream(server.url, '/api/chat/stream', user.token)

    expect((await changePassword(user, { currentPassword: PASSWORD, newPassword: 'a-better-password' })).status).toBe(204)
    await otherStream.ended(2000)
    expect((await call(server.url, '/api/auth/me', { token: other.token })).status).toBe(401)
    expect((await call(server.url, '/api/auth/me', { token: user.token })).status).toBe(200)
    expect((await call(server.url, '/api/auth/me', { token: token.token })).status).toBe(200)
    expect(ownStream.closed).toBe(false)
    expect((await login(server.url, user.username)).status).toBe(401)
    expect((await login(server.url, user.username, 'a-better-password')).status).toBe(200)
    ownStream.close()
  })

  it('answers 403 for a wrong current password and changes nothing', async () => {
    const user = await newUser(server.url, 'acctpw2')
    const other = await anotherSession(server.url, user)
    const reply = await changePassword(user, { currentPassword: 'not-my-password', newPassword: 'a-better-password' })
    expect(reply.status).toBe(403)
    expect(reply.body.error.code).toBe('forbidden')
    expect((await call(server.url, '/api/auth/me', { token: other.token })).status).toBe(200)
    expect((await login(server.url, user.username)).status).toBe(200)
  })

  it("counts guesses of the current password against the account's sign-in allowance (429)", async () => {
    const user = await newUser(server.url, 'acctpwguess')
    const statuses: number[] = []
    for (let i = 0; i < 11; i++) statuses.push((await changePassword(user, { currentPassword: `guess-${i}-password`, newPassword: 'a-better-password' })).status)
    expect(statuses).toEqual([...Array(10).fill(403), 429])
    const limited = await changePassword(user, { currentPassword: PASSWORD, newPassword: 'a-better-password' })
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
  })

  it('checks the new password (400), needs a session (401) and a signed-in one: an access token cannot (403)', async () => {
    const user = await newUser(server.url, 'acctpw3')
    expect((await changePassword(user, { currentPassword: PASSWORD, newPassword: 'short' })).status).toBe(400)
    expect((await changePassword(user, { currentPassword: PASSWORD })).status).toBe(400)
    expect((await call(server.url, '/api/auth/password', { body: { currentPassword: PASSWORD, newPassword: 'a-better-password' } })).status).toBe(401)
    const token = await createToken(server.url, user)
    const reply = await changePassword(token, { currentPassword: PASSWORD, newPassword: 'a-better-password' })
    expect(reply.status).toBe(403)
    expect((await login(server.url, user.username)).status).toBe(200)
  })
})

describe('POST /api/auth/logout', () => {
  it('is for signed-in sessions: an access token is revoked by its own route (403)', async () => {
    const user = await newUser(server.url, 'acctout')
    const token = await createToken(server.url, user)
    expect((await call(server.url, '/api/auth/logout', { method: 'POST', token: token.token })).status).toBe(403)
    expect((await call(server.url, '/api/auth/me', { token: token.token })).status).toBe(200)
  })
})
