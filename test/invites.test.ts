import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { call, startServer, type TestServer, type TestUser } from './helpers'
import { login, onDatabase, openAsOtherProcess, PASSWORD } from './support/accounts'

// Registration closed: the way in is an invite. The admin is made as the command line makes
// one, by a second process on the database.
let server: TestServer
let admin: TestUser
let member: TestUser
let seq = 0
const name = (prefix: string) => `${prefix}_${Date.now().toString(36)}_${++seq}`

beforeAll(async () => {
  server = await startServer({ allowRegistration: false })
  const other = await openAsOtherProcess(server.config)
  try {
    const first = await other.admin.createUser({ username: name('invadmin'), password: PASSWORD })
    const second = await other.admin.createUser({ username: name('invmember'), password: PASSWORD })
    expect([first.role, second.role]).toEqual(['admin', 'member'])
    admin = { id: first.id, username: first.username, token: (await login(server.url, first.username)).body.token }
    member = { id: second.id, username: second.username, token: (await login(server.url, second.username)).body.token }
  } finally {
    await other.close()
  }
})
afterAll(() => server.stop())

const invite = async (body: { expiresInHours?: number; maxUses?: number } = {}) => {
  const res = await call(server.url, '/api/admin/invites', { token: admin.token, body })
  if (res.status !== 201) throw new Error(`invite: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body as { token: string; url: string; createdAt: string; expiresAt: string; maxUses: number | null; uses: number }
}
const register = (inviteToken: string | undefined, username = name('invitee')) =>
  call(server.url, '/api/auth/register', { body: { username, password: PASSWORD, ...(inviteToken === undefined ? {} : { inviteToken }) } })
const live = async () => (await call(server.url, '/api/admin/invites', { token: admin.token })).body as { token: string; uses: number }[]

describe('invites', () => {
  it('let people register while registration is closed, as members, counted in uses', async () => {
    expect((await register(undefined)).status).toBe(403)
    const made = await invite()
    expect(made).toMatchObject({ maxUses: null, uses: 0, url: `${server.url}/join#${made.token}` })
    const days = (Date.parse(made.expiresAt) - Date.parse(made.createdAt)) / 86_400_000
    expect(days).toBe(7)
    const joined = await register(made.token)
    expect(joined.status).toBe(201)
    expect(joined.body.user).toMatchObject({ role: 'member', deactivated: false })
    expect((await call(server.url, '/api/auth/me', { token: joined.body.token })).status).toBe(200)
    expect((await register(made.token)).status).toBe(201)
    expect((await live()).find((i) => i.token === made.token)?.uses).toBe(2)
  })

  it('stop at maxUses, at expiry, and when revoked (403); unknown ones are 403 too', async () => {
    const once = await invite({ maxUses: 1, expiresInHours: 2 })
    expect((Date.parse(once.expiresAt) - Date.parse(once.createdAt)) / 3_600_000).toBe(2)
    expect((await register(once.token)).status).toBe(201)
    const used = await register(once.token)
    expect(used.status).toBe(403)
    expect(used.body.error.message).toStartWith('inviteToken:')
    expect((await live()).map((i) => i.token)).not.toContain(once.token)

    const aging = await invite()
    await onDatabase(server.config, 'UPDATE invites SET expires_at = ? WHERE token = ?', Date.now() - 1, aging.token)
    expect((await register(aging.token)).status).toBe(403)

    const revoked = await invite()
    expect((await call(server.url, `/api/admin/invites/${revoked.token}`, { method: 'DELETE', token: admin.token })).status).toBe(204)
    expect((await register(revoked.token)).status).toBe(403)
    expect((await call(server.url, `/api/admin/invites/${revoked.token}`, { method: 'DELETE', token: admin.token })).status).toBe(404)
    expect((await register('not-an-invite-token')).status).toBe(403)
  })

  it('give their last use to exactly one of many racing for it', async () => {
    const last = await invite({ maxUses: 3 })
    expect((await register(last.token)).status).toBe(201)
    expect((await register(last.token)).status).toBe(201)
    const racers = await Promise.all(Array.from({ length: 8 }, () => register(last.token)))
    expect(racers.map((r) => r.status).sort()).toEqual([201, 403, 403, 403, 403, 403, 403, 403])
    const counted = (await call(server.url, '/api/admin/invites', { token: admin.token })).body as any[]
    expect(counted.map((i) => i.token)).not.toContain(last.token)
  })

  it('count a use taken by another process on the database: the last one goes to one of them', async () => {
    const last = await invite({ maxUses: 1 })
    const other = await openAsOtherProcess(server.config)
    try {
      const viaOther = other.store.createUser({ username: name('invproc'), displayName: 'x', passwordHash: 'x', now: Date.now(), inviteToken: last.token }).then(
        () => 'in',
        () => 'refused',
      )
      const [http, direct] = await Promise.all([register(last.token), viaOther])
      expect([http.status === 201 ? 'in' : 'refused', direct].sort()).toEqual(['in', 'refused'])
    } finally {
      await other.close()
    }
  })

  it('keep a use when the username is taken (409)', async () => {
    const once = await invite({ maxUses: 1 })
    expect((await register(once.token, member.username)).status).toBe(409)
    expect((await register(once.token)).status).toBe(201)
  })

  it('are made, listed and revoked by admins only, with validated fields', async () => {
    expect((await call(server.url, '/api/admin/invites', { token: member.token, body: {} })).status).toBe(403)
    expect((await call(server.url, '/api/admin/invites', { token: member.token })).status).toBe(403)
    const made = await invite()
    expect((await call(server.url, `/api/admin/invites/${made.token}`, { method: 'DELETE', token: member.token })).status).toBe(403)
    expect((await call(server.url, '/api/admin/invites', { body: {} })).status).toBe(401)
    for (const body of [{ expiresInHours: 0 }, { expiresInHours: 8761 }, { maxUses: 0 }, { maxUses: 1.5 }, { uses: 3 }]) {
      const reply = await call(server.url, '/api/admin/invites', { token: admin.token, body })
      expect({ body, status: reply.status }).toEqual({ body, status: 400 })
    }
    const listed = (await live()).map((i) => i.token)
    expect(listed[0]).toBe(made.token)
  })
})
