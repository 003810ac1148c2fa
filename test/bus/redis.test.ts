import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import Redis from 'ioredis'
import { type Bus, type BusEvent, roomTopic } from '../../src/bus/bus'
import { createRedisBus, type RedisBusOptions } from '../../src/bus/redis'
import { logRecorder } from '../support/log-recorder'
import { closeAfterEach } from '../support/close-after-each'
import { findRedisServer, freePort, startRedis, type TestRedis } from '../support/redis-server'
import { waitUntil } from '../support/wait-until'
import { recorder, runBusContract, untilLive } from './contract'

const hasRedis = findRedisServer() !== null
const message = (roomId: number, messageId: number): BusEvent => ({ type: 'message', roomId, messageId })

const track = closeAfterEach()

let instances = 0
function bus(url: string, options: Partial<RedisBusOptions> = {}): Bus {
  return track(createRedisBus({ url, instanceId: `test-${++instances}`, ...options }))
}

async function connectedPair(url: string, options: Partial<RedisBusOptions> = {}) {
  const a = bus(url, options)
  const b = bus(url, options)
  await waitUntil(() => a.healthy() && b.healthy(), 'both buses are connected')
  return { a, b }
}

/** Resolves at the bus's next resync. */
function nextResync(target: Bus, timeoutMs = 5_000): Promise<void> {
  const { promise, resolve, reject } = Promise.withResolvers<void>()
  const off = target.onResync(resolve)
  const timer = setTimeout(() => reject(new Error(`no resync within ${timeoutMs} ms`)), timeoutMs)
  return promise.finally(() => {
    off()
    clearTimeout(timer)
  })
}

describe('createRedisBus', () => {
  it('fails at once on bad options, without repeating a password', () => {
    expect(() => createRedisBus({ url: 'localhost', instanceId: 'x' })).toThrow('redis://')
    expect(() => createRedisBus({ url: 'http://:secret@localhost', instanceId: 'x' })).toThrow('redis://')
    expect(() => createRedisBus({ url: 'http://:secret@localhost', instanceId: 'x' })).not.toThrow('secret')
    expect(() => createRedisBus({ url: 'redis://127.0.0.1:1', instanceId: '' })).toThrow(/instanceId/)
  })
})

describe.skipIf(!hasRedis)('redis bus', () => {
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

  runBusContract('redis', async () => {
    const a = createRedisBus({ url: redis.url, instanceId: `contract-${++instances}` })
    const b = createRedisBus({ url: redis.url, instanceId: `contract-${++instances}` })
    await waitUntil(() => a.healthy() && b.healthy(), 'both buses are connected')
    return { a, b, cleanup: async () => void (await Promise.all([a.close(), b.close()])) }
  })

  const subscribedChannels = async () => ((await observer.pubsub('CHANNELS', 'chat:room:*')) as string[]).sort()

  it('subscribes a channel in Redis only while the topic has a handler', async () => {
    const a = bus(redis.url)
    await waitUntil(() => a.healthy(), 'the bus is connected')
    expect(await subscribedChannels()).toEqual([])
    const offFirst = a.subscribe(roomTopic(1), () => {})
    const offSecond = a.subscribe(roomTopic(1), () => {})
    await waitUntil(async () => (await subscribedChannels()).includes('chat:room:1'), 'chat:room:1 is subscribed')
    offFirst()
    // Commands on one connection run in order: once room:2 shows, an UNSUBSCRIBE of room:1 would have.
    const offOther = a.subscribe(roomTopic(2), () => {})
    await waitUntil(async () => (await subscribedChannels()).includes('chat:room:2'), 'chat:room:2 is subscribed')
    expect(await subscribedChannels()).toEqual(['chat:room:1', 'chat:room:2'])
    offSecond()
    offOther()
    await waitUntil(async () => (await subscribedChannels()).length === 0, 'no room channel is subscribed')
  })

  it('keeps calling the other handlers when one throws, and logs it', async () => {
    const logs = logRecorder()
    const a = bus(redis.url)
    const b = bus(redis.url, { log: logs.log })
    await waitUntil(() => a.healthy() && b.healthy(), 'both buses are connected')
    const after = recorder()
    b.subscribe(roomTopic(1), () => {
      throw new Error('handler bug')
    })
    b.subscribe(roomTopic(1), after.handler)
    await untilLive(a, b, roomTopic(1))
    expect(() => b.publish(roomTopic(1), message(1, 1))).not.toThrow()
    a.publish(roomTopic(1), message(1, 2))
    await after.until(2)
    expect(after.events).toEqual([message(1, 1), message(1, 2)])
    expect(logs.count('bus handler failed')).toBe(1)
  })

  it('ignores and logs payloads that are not its wire format', async () => {
    const logs = logRecorder()
    const b = bus(redis.url, { log: logs.log })
    await waitUntil(() => b.healthy(), 'the bus is connected')
    const seen = recorder()
    b.subscribe(roomTopic(1), seen.handler)
    const valid = JSON.stringify({ o: 'elsewhere', e: message(1, 2) })
    await waitUntil(async () => (await observer.publish('chat:room:1', valid)) === 1, 'the channel has its subscriber')
    const garbage = [
      'not json',
      '42',
      '{"e":{"type":"message","roomId":1,"messageId":1}}',
      '{"o":"x","e":{"type":"constructor"}}',
      '{"o":"x","e":{"type":"message","roomId":"1","messageId":1}}',
      '{"o":"x","e":{"type":"typing","roomId":1}}',
      '{"o":"x","e":{"type":"room-deleted","roomId":1,"userId":"7"}}',
    ]
    for (const payload of garbage) await observer.publish('chat:room:1', payload)
    await observer.publish('chat:room:1', valid)
    await seen.until(2)
    expect(seen.events).toEqual([message(1, 2), message(1, 2)])
    // One line for the burst, not one per payload.
    expect(logs.count('malformed bus payload ignored')).toBe(1)
  })

  it('asks the other instances to resync when its publishes were dropped', async () => {
    const a = bus(redis.url, { instanceId: 'cut-off' })
    const logs = logRecorder()
    const b = bus(redis.url, { log: logs.log })
    await waitUntil(() => a.healthy() && b.healthy(), 'both buses are connected')
    b.onResync(async () => {
      throw new Error('resync bug')
    })
    const resynced = nextResync(b)
    const clients = (await observer.client('LIST')) as string
    const publisherId = clients.match(/id=(\d+) [^\n]*name=chat:cut-off:publisher/)?.[1]
    expect(publisherId).toBeDefined()
    await observer.client('KILL', 'ID', publisherId!)
    await waitUntil(() => !a.healthy(), 'a notices its publisher is gone')
    a.publish(roomTopic(1), message(1, 1))
    await resynced
    expect(b.healthy()).toBe(true)
    // A failing async handler is logged, never an unhandled rejection.
    await logs.logged('bus resync handler failed')
  })

  it('closes within a second, even when Redis does not answer', async () => {
    const server = await startRedis()
    track({ close: () => server.stop() })
    const a = bus(server.url)
    await waitUntil(() => a.healthy(), 'the bus is connected')
    server.pause()
    const started = performance.now()
    await a.close()
    expect(performance.now() - started).toBeLessThan(1_000)
  })
})

describe.skipIf(!hasRedis)('redis bus when Redis fails', () => {
  it('keeps local delivery while Redis is down; resyncs and delivers across instances once it is back', async () => {
    const server = await startRedis()
    track({ close: () => server.stop() })
    const { a, b } = await connectedPair(server.url)
    const local = recorder()
    const remote = recorder()
    a.subscribe(roomTopic(1), local.handler)
    b.subscribe(roomTopic(1), remote.handler)
    await untilLive(a, b, roomTopic(1))

    await server.kill('SIGKILL')
    await waitUntil(() => !a.healthy() && !b.healthy(), 'both buses notice Redis is gone')
    expect(() => a.publish(roomTopic(1), message(1, 1))).not.toThrow()
    expect(local.events).toEqual([message(1, 1)])

    const resyncedA = nextResync(a)
    const resyncedB = nextResync(b)
    await server.restart()
    await Promise.all([resyncedA, resyncedB])
    await waitUntil(() => a.healthy() && b.healthy(), 'both buses are healthy again')
    // No probe: the subscriptions were restored before the resync, so this must arrive as it is.
    a.publish(roomTopic(1), message(1, 2))
    await remote.until(1)
    expect(remote.events).toEqual([message(1, 2)])
  })

  it('starts while no Redis listens and connects when one comes up', async () => {
    const logs = logRecorder()
    const port = freePort()
    const started = performance.now()
    const a = bus(`redis://127.0.0.1:${port}`, { log: logs.log })
    expect(performance.now() - started).toBeLessThan(100)
    expect(a.healthy()).toBe(false)
    const seen = recorder()
    a.subscribe(roomTopic(1), seen.handler)
    a.publish(roomTopic(1), message(1, 1))
    expect(seen.events).toEqual([message(1, 1)])
    await logs.logged('redis connection error')

    // A handler existed while nothing could be heard: connecting reconciles it.
    const resynced = nextResync(a)
    const server = await startRedis(port)
    track({ close: () => server.stop() })
    await resynced
    await waitUntil(() => a.healthy(), 'the bus is healthy')
    // One line per connection for the outage, not one per retry.
    expect(logs.count('redis connection error')).toBeLessThanOrEqual(2)
  })

  it('treats a server that accepts connections but never answers as down', async () => {
    const logs = logRecorder()
    const mute = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
    track({ close: () => mute.stop(true) })
    const a = bus(`redis://127.0.0.1:${mute.port}`, { log: logs.log, heartbeatMs: 200 })
    await logs.logged('redis connection error')
    expect(logs.entries.find((entry) => entry.msg === 'redis connection error')?.fields?.error).toMatch(/timeout/i)
    expect(a.healthy()).toBe(false)
  })

  it('notices a Redis that stops answering, and recovers when it answers again', async () => {
    const server = await startRedis()
    track({ close: () => server.stop() })
    const { a, b } = await connectedPair(server.url, { heartbeatMs: 300 })
    const remote = recorder()
    b.subscribe(roomTopic(1), remote.handler)
    await untilLive(a, b, roomTopic(1))

    server.pause()
    await waitUntil(() => !a.healthy() && !b.healthy(), 'both buses notice Redis hangs')
    const resynced = nextResync(b)
    server.resume()
    await resynced
    await waitUntil(() => a.healthy() && b.healthy(), 'both buses are healthy again')
    a.publish(roomTopic(1), message(1, 1))
    await remote.until(1)
    expect(remote.events).toEqual([message(1, 1)])
  })
})
