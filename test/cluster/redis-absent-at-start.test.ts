import { describe, expect, it } from 'bun:test'
import { call, createRoom, newUser, post } from '../helpers'
import { readiness, untilReadiness } from '../support/cluster'
import { findRedisServer, freePort, startRedis, type TestRedis } from '../support/redis-server'
import { type ServerProcess, spawnServer } from '../support/server-process'

const hasRedis = findRedisServer() !== null

describe.skipIf(!hasRedis)('scale-out: Redis unreachable at start-up', () => {
  it('with nothing listening at REDIS_URL the server starts and serves, /readyz is 503, then 200 once a Redis starts there', async () => {
    const port = freePort()
    let server: ServerProcess | undefined
    let redis: TestRedis | undefined
    try {
      server = await spawnServer({ env: { REDIS_URL: `redis://127.0.0.1:${port}` } })
      expect((await call(server.url, '/healthz')).status).toBe(200)
      const ready = await call(server.url, '/readyz')
      expect(ready.status).toBe(503)
      expect(ready.body).toMatchObject({ database: true, redis: false })
      // The instance's own clients are served meanwhile.
      const user = await newUser(server.url, 'absent')
      const room = await createRoom(server.url, user)
      await post(server.url, user, room.id, 'stored without Redis')

      redis = await startRedis(port)
      const startedAt = performance.now()
      await untilReadiness(server.url, 200)
      console.log(`[scale-out] a Redis started after the server: /readyz 200 ${Math.round(performance.now() - startedAt)} ms after it answered PING`)
    } finally {
      await server?.stop()
      await redis?.stop()
    }
  })

  it('with a Redis that accepts connections but never answers (SIGSTOP), the server starts, is not ready, and turns ready when it answers', async () => {
    const redis = await startRedis()
    let server: ServerProcess | undefined
    try {
      redis.pause()
      server = await spawnServer({ env: { REDIS_URL: redis.url } })
      expect((await call(server.url, '/healthz')).status).toBe(200)
      expect(await readiness(server.url)).toBe(503)
      redis.resume()
      await untilReadiness(server.url, 200)
    } finally {
      await server?.stop()
      await redis.stop()
    }
  })
})
