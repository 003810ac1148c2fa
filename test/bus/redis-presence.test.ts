import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import Redis from 'ioredis'
import type { Presence } from '../../src/bus/bus'
import { createRedisPresence, type RedisPresenceOptions } from '../../src/bus/redis-presence'
import { closeAfterEach } from '../support/close-after-each'
import { findRedisServer, startRedis, type TestRedis } from '../support/redis-server'
import { waitUntil } from '../support/wait-until'
import { runPresenceContract } from './presence-contract'

const hasRedis = findRedisServer() !== null

const track = closeAfterEach()

let instances = 0
function presence(url: string, options: Partial<RedisPresenceOptions> = {}): Presence {
  return track(createRedisPresence({ url, instanceId: `test-${++instances}`, ...options }))
}

const isOnline = async (where: Presence, userId: number) => (await where.online([userId])).has(userId)

describe.skipIf(!hasRedis)('redis presence', () => {
  let redis: TestRedis
  let observer: Redis
  beforeAll(async () => {
    redis = await startRedis()
    observer = new Redis(redis.url)
  })
  afterAll(async () => {
    observer?.disconnect()
    await redis?.stop()
  })

  runPresenceContract('redis', async () => createRedisPresence({ url: redis.url, instanceId: `contract-${++instances}` }))

  it('shows a user online on every instance, and offline at once when the last stream closes', async () => {
    const a = presence(redis.url)
    const b = presence(redis.url)
    a.connect(7)
    a.connect(7)
    await waitUntil(() => isOnline(b, 7), 'b sees user 7 online')
    a.disconnect(7)
    expect(await isOnline(b, 7)).toBe(true)
    a.disconnect(7)
    // Far sooner than the 25 s a claim lives: the last close removes it.
    await waitUntil(async () => !(await isOnline(b, 7)), 'b sees user 7 offline', 1_000)
  })

  it('keeps a user online while any instance holds a stream', async () => {
    const a = presence(redis.url)
    const b = presence(redis.url)
    a.connect(8)
    b.connect(8)
    await waitUntil(async () => (await isOnline(a, 8)) && (await isOnline(b, 8)), 'both hold user 8')
    b.disconnect(8)
    await waitUntil(async () => (await observer.zcard('chat:presence:8')) === 1, "b's claim is gone")
    expect(await isOnline(b, 8)).toBe(true)
    a.disconnect(8)
    await waitUntil(async () => !(await isOnline(b, 8)), 'user 8 is offline', 1_000)
  })

  it('renews its claims before they run out', async () => {
    const a = presence(redis.url, { instanceId: 'renewer', ttlMs: 600, refreshMs: 200 })
    a.connect(9)
    const expiry = async () => Number(await observer.zscore('chat:presence:9', 'renewer'))
    await waitUntil(async () => (await expiry()) > 0, 'the claim is made')
    const first = await expiry()
    await waitUntil(async () => (await expiry()) > first, 'the claim is renewed')
    expect(await observer.pttl('chat:presence:9')).toBeGreaterThan(0)
  })

  it('lets the claims of an instance that died without closing run out', async () => {
    const a = presence(redis.url)
    const holder = Bun.spawn(['bun', `${import.meta.dir}/../support/presence-holder.ts`, redis.url, 'doomed', '10'], {
      stdout: 'inherit',
      stderr: 'inherit',
    })
    track({ close: () => holder.kill('SIGKILL') })
    await waitUntil(() => isOnline(a, 10), 'the holder shows user 10 online')
    holder.kill('SIGKILL')
    await holder.exited
    // Nobody removed the claim: it is still there, and goes only when it expires (ttl 1.5 s).
    expect(await isOnline(a, 10)).toBe(true)
    await waitUntil(async () => !(await isOnline(a, 10)), 'the claim expired', 3_000)
  })

  it('rejects a refresh interval that would let claims lapse', () => {
    expect(() => createRedisPresence({ url: redis.url, instanceId: 'x', ttlMs: 1_000, refreshMs: 1_000 })).toThrow(
      /refreshMs/,
    )
  })
})

describe.skipIf(!hasRedis)('redis presence when Redis fails', () => {
  it('answers from local streams, without hanging, while Redis is down or hung', async () => {
    const server = await startRedis()
    track({ close: () => server.stop() })
    const a = presence(server.url, { queryTimeoutMs: 200 })
    const b = presence(server.url)
    b.connect(2)
    await waitUntil(() => isOnline(a, 2), 'a sees user 2 online')
    a.connect(1)

    server.pause()
    let started = performance.now()
    expect(await a.online([1, 2])).toEqual(new Set([1]))
    expect(performance.now() - started).toBeLessThan(500)

    await server.kill('SIGKILL')
    expect(() => a.connect(3)).not.toThrow()
    expect(() => a.disconnect(3)).not.toThrow()
    started = performance.now()
    expect(await a.online([1, 2, 3])).toEqual(new Set([1]))
    expect(performance.now() - started).toBeLessThan(500)
  })

  it('announces its users again when Redis comes back, and the leaves it could not send', async () => {
    const server = await startRedis()
    track({ close: () => server.stop() })
    const a = presence(server.url, { instanceId: 'cut-off' })
    const b = presence(server.url)
    a.connect(1)
    a.connect(2)
    await waitUntil(async () => (await isOnline(b, 1)) && (await isOnline(b, 2)), 'b sees users 1 and 2')

    // The restarted server remembers nothing (no persistence): only a's re-announcement brings 1 back.
    await server.kill('SIGKILL')
    await server.restart()
    await waitUntil(() => isOnline(b, 1), 'b sees user 1 again')

    // Cut only a's connection: user 2 leaves while a cannot tell Redis, and must not linger 25 s.
    const observer = new Redis(server.url)
    track({ close: () => observer.disconnect() })
    await waitUntil(() => isOnline(b, 2), 'b sees user 2 again')
    const clients = (await observer.client('LIST')) as string
    const connectionId = clients.match(/id=(\d+) [^\n]*name=chat:cut-off:presence/)?.[1]
    expect(connectionId).toBeDefined()
    await observer.client('KILL', 'ID', connectionId!)
    a.disconnect(2)
    await waitUntil(async () => !(await isOnline(b, 2)), 'b sees user 2 offline', 2_000)
  })
})
