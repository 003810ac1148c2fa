import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { call, newUser, type TestUser } from './helpers'
import { startCluster, type Cluster } from './support/cluster'
import { createToken, PASSWORD, setUser } from './support/accounts'

// Two instances on one database and one Redis: what an admin does on one takes effect on the
// other at once.
let cluster: Cluster
let admin: TestUser
beforeAll(async () => {
  cluster = await startCluster(2)
  admin = await newUser(cluster.url(0), 'clusteradmin')
}, 60_000)
afterAll(() => cluster?.stop())

describe('accounts across instances (Redis)', () => {
  it('deactivation on one instance ends a live stream and the session on the other', async () => {
    const user = await newUser(cluster.url(1), 'clusterdeact')
    const stream = await cluster.stream(1, user, '/api/chat/stream')
    expect((await call(cluster.url(1), '/api/auth/me', { token: user.token })).status).toBe(200)
    const started = performance.now()
    expect((await setUser(cluster.url(0), admin, user.id, { deactivated: true })).status).toBe(200)
    await stream.ended(1500)
    expect(performance.now() - started).toBeLessThan(1500)
    expect((await call(cluster.url(1), '/api/auth/me', { token: user.token })).status).toBe(401)
  })

  it('revoking a token or changing the password on one instance ends the streams on the other', async () => {
    const user = await newUser(cluster.url(0), 'clusterpw')
    const token = await createToken(cluster.url(0), user)
    const login = await call(cluster.url(1), '/api/auth/login', { body: { username: user.username, password: PASSWORD } })
    const other = { ...user, token: login.body.token }
    const byToken = await cluster.stream(1, { ...user, token: token.token }, '/api/chat/stream')
    const bySession = await cluster.stream(1, other, '/api/chat/stream')
    expect((await call(cluster.url(0), `/api/auth/tokens/${token.id}`, { method: 'DELETE', token: user.token })).status).toBe(204)
    await byToken.ended(1500)
    expect(bySession.closed).toBe(false)
    expect((await call(cluster.url(0), '/api/auth/password', { token: user.token, body: { currentPassword: PASSWORD, newPassword: 'a-better-password' } })).status).toBe(204)
    await bySession.ended(1500)
    expect((await call(cluster.url(1), '/api/auth/me', { token: other.token })).status).toBe(401)
    expect((await call(cluster.url(1), '/api/auth/me', { token: user.token })).status).toBe(200)
  })

  it('with Redis away, deactivation still reaches the other instance within a second, through the store', async () => {
    const user = await newUser(cluster.url(1), 'clusteroutage')
    const stream = await cluster.stream(1, user, '/api/chat/stream')
    await cluster.redis.kill('SIGKILL')
    try {
      const started = performance.now()
      expect((await setUser(cluster.url(0), admin, user.id, { deactivated: true })).status).toBe(200)
      await stream.ended(2500)
      expect(performance.now() - started).toBeLessThan(2500)
    } finally {
      await cluster.redis.restart()
    }
  })
})
