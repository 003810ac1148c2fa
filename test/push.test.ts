/**
 * Web Push (issue 13) against a push service started by the test: the test holds each
 * subscription's own keys, decrypts every push (aes128gcm) and verifies its VAPID JWT against
 * GET /api/push/key. Who is told: the room's level, mentions, never the sender, only when away
 * (no stream for PUSH_AWAY_MS); a 410 removes the subscription; pushes pending at a SIGKILL are
 * sent after the restart.
 */
import { afterEach, describe, expect, it } from 'bun:test'
import { call, createRoom, eventually, newUser, openStream, post, startServer, type TestServer, type TestUser } from './helpers'
import { closeAfterEach } from './support/close-after-each'
import { startCluster } from './support/cluster'
import { startReceiver, type Received, type Receiver } from './support/http-receiver'
import { newSubscription, verifyVapid, type TestSubscription } from './support/push-subscriber'
import { spawnServer } from './support/server-process'

const track = closeAfterEach()
let server: TestServer | undefined
afterEach(async () => {
  await server?.stop()
  server = undefined
})

const created = () => new Response(null, { status: 201 })

async function subscribe(url: string, user: TestUser, service: Receiver, path: string): Promise<TestSubscription> {
  const subscription = newSubscription(`${service.url}${path}`)
  const res = await call(url, '/api/push/subscriptions', { token: user.token, body: { endpoint: subscription.endpoint, keys: subscription.keys, expirationTime: null } })
  if (res.status !== 201) throw new Error(`subscribe: ${res.status} ${JSON.stringify(res.body)}`)
  return subscription
}

async function metric(url: string, line: string): Promise<number> {
  const text = await (await fetch(url + '/metrics')).text()
  const found = text.split('\n').find((l) => l.startsWith(line + ' '))
  return found ? Number(found.slice(line.length + 1)) : 0
}

/** The push's JSON, after checking it is VAPID-signed by the server and decrypting it. */
async function opened(url: string, token: string, push: Received, subscription: TestSubscription) {
  const { publicKey } = (await call(url, '/api/push/key', { token })).body
  verifyVapid(push.headers.get('authorization'), publicKey, subscription.endpoint)
  expect(push.headers.get('content-encoding')).toBe('aes128gcm')
  expect(Number(push.headers.get('ttl'))).toBeGreaterThan(0)
  return JSON.parse(subscription.decrypt(push.body))
}

const directRoom = async (url: string, user: TestUser, other: TestUser) =>
  (await call(url, `/api/chat/users/${other.id}/rooms`, { token: user.token, method: 'POST' })).body as { id: number; name: string }

/** One push at a time, in message order: a push that should not exist would come before the next one that should. */
async function setUp(overrides: Parameters<typeof startServer>[0] = {}) {
  server = await startServer({ pushAllowHttp: true, deliveryConcurrency: 1, ...overrides })
  const [alice, bob] = [await newUser(server.url, 'pusha'), await newUser(server.url, 'pushb')]
  return { url: server.url, alice, bob }
}

describe('Web Push subscriptions', () => {
  it('gives the VAPID public key, the same after a restart, to signed-in callers only', async () => {
    const child = await spawnServer()
    try {
      const user = await newUser(child.url, 'key')
      const first = await call(child.url, '/api/push/key', { token: user.token })
      expect(first.status).toBe(200)
      expect(Buffer.from(first.body.publicKey, 'base64url')).toHaveLength(65)
      expect((await call(child.url, '/api/push/key')).status).toBe(401)
      await child.restart()
      expect((await call(child.url, '/api/push/key', { token: user.token })).body.publicKey).toBe(first.body.publicKey)
    } finally {
      await child.stop('SIGKILL')
    }
  })

  it('accepts only https endpoints unless PUSH_ALLOW_HTTP, and well-formed keys', async () => {
    server = await startServer()
    const user = await newUser(server.url, 'sub')
    const keys = newSubscription('https://push.example/x').keys
    const subscribe = (body: unknown) => call(server!.url, '/api/push/subscriptions', { token: user.token, body })
    expect((await subscribe({ endpoint: 'https://push.example/abc', keys })).status).toBe(201)
    const http = await subscribe({ endpoint: 'http://127.0.0.1:9/abc', keys })
    expect(http.status).toBe(400)
    expect(http.body.error.message).toMatch(/^endpoint: /)
    expect((await subscribe({ endpoint: 'javascript:alert(1)', keys })).status).toBe(400)
    expect((await subscribe({ endpoint: 'https://push.example/abc', keys: { ...keys, p256dh: 'short' } })).body.error.message).toMatch(/^keys.p256dh: /)
    expect((await subscribe({ endpoint: 'https://push.example/abc', keys: { ...keys, auth: 'AAAA' } })).body.error.message).toMatch(/^keys.auth: /)
    expect((await subscribe({ endpoint: 'https://push.example/abc' })).status).toBe(400)
    expect((await call(server.url, '/api/push/subscriptions', { body: { endpoint: 'https://push.example/abc', keys } })).status).toBe(401)
    const remove = () => call(server!.url, '/api/push/subscriptions', { method: 'DELETE', token: user.token, body: { endpoint: 'https://push.example/abc' } })
    expect((await remove()).status).toBe(204)
    expect((await remove()).status).toBe(204)
  })
})

describe('Web Push delivery', () => {
  it('pushes a direct message to an away user, encrypted to their keys and signed with the server key', async () => {
    const service = track(startReceiver(created))
    const { url, alice, bob } = await setUp()
    const subscription = await subscribe(url, bob, service, '/bob')
    const room = await directRoom(url, alice, bob)
    const message = await post(url, alice, room.id, 'lunch at noon?')

    const push = await service.next()
    expect(push.path).toBe('/bob')
    const payload = await opened(url, bob.token, push, subscription)
    expect(payload).toEqual({ roomId: room.id, messageId: message.id, title: alice.username, body: 'lunch at noon?' })
    // The body is a preview: one line, 120 characters at most.
    await post(url, alice, room.id, `a long\nstory ${'word '.repeat(100)}`)
    const long = await opened(url, bob.token, await service.next(), subscription)
    expect([...long.body]).toHaveLength(120)
    expect(long.body).toStartWith('a long story word')
    expect(long.body).toEndWith('…')
    await eventually(async () => (await metric(url, 'chat_outgoing_sent_total{kind="push"}')) === 2, 5000, 'both pushes counted')
  })

  it("follows the room's level and mentions, and never pushes the sender", async () => {
    const service = track(startReceiver(created))
    const { url, alice, bob } = await setUp()
    const alices = await subscribe(url, alice, service, '/alice')
    const bobs = await subscribe(url, bob, service, '/bob')
    const room = await createRoom(url, alice, { name: 'ops', participantIds: [bob.id] })
    const level = (value: string) => call(url, `/api/chat/rooms/${room.id}/notifications`, { method: 'PUT', token: bob.token, body: { level: value } })

    await post(url, alice, room.id, 'plain words')
    const mentioned = await post(url, alice, room.id, `@${bob.username} look`)
    expect((await level('none')).status).toBe(204)
    await post(url, alice, room.id, `@${bob.username} again`)
    expect((await level('all')).status).toBe(204)
    const plainForAll = await post(url, alice, room.id, 'plain for all')
    const toAlice = await post(url, bob, room.id, `@${alice.username} from bob`)
    const last = await post(url, alice, room.id, 'the last one')

    const pushes = await service.until((r) => r.path === '/bob', 3)
    const ids = await Promise.all(pushes.map(async (p) => (await opened(url, bob.token, p, bobs)).messageId))
    expect(ids).toEqual([mentioned.id, plainForAll.id, last.id])
    expect((await opened(url, bob.token, pushes[0]!, bobs)).title).toBe(`${alice.username} in ops`)
    // Alice's level is mentions (a group room's default): only bob's message naming her, never her own.
    const toAlices = service.received.filter((r) => r.path === '/alice')
    expect(toAlices).toHaveLength(1)
    expect((await opened(url, alice.token, toAlices[0]!, alices)).messageId).toBe(toAlice.id)
  })

  it('tells only a user with no stream open for PUSH_AWAY_MS', async () => {
    const service = track(startReceiver(created))
    const awayMs = 500
    const { url, alice, bob } = await setUp({ pushAwayMs: awayMs })
    const subscription = await subscribe(url, bob, service, '/bob')
    const room = await directRoom(url, alice, bob)
    const skipped = () => metric(url, 'chat_outgoing_skipped_total{kind="push",reason="present"}')

    const stream = await openStream(url, '/api/chat/stream', bob.token)
    await post(url, alice, room.id, 'while bob looks')
    await eventually(async () => (await skipped()) === 1, 5000, 'the push skipped: bob has a stream open')
    stream.close()
    const closedAt = Date.now()
    await eventually(async () => (await call(url, `/api/chat/rooms/${room.id}`, { token: alice.token })).body.participants.every((p: any) => !p.online), 6000, 'bob offline')
    await post(url, alice, room.id, 'just after bob left')
    await eventually(async () => (await skipped()) === 2, 5000, 'the push skipped: bob was seen within PUSH_AWAY_MS')
    // The rule is about time itself: wait until it has passed.
    await Bun.sleep(Math.max(0, closedAt + awayMs + 50 - Date.now()))
    const away = await post(url, alice, room.id, 'bob is away now')
    const push = await service.next()
    expect(service.received).toHaveLength(1)
    expect((await opened(url, bob.token, push, subscription)).messageId).toBe(away.id)
  })

  it('removes a subscription the push service answers 410 for', async () => {
    const service = track(startReceiver((r) => (r.path === '/gone' ? new Response(null, { status: 410 }) : created())))
    const { url, alice, bob } = await setUp()
    await subscribe(url, bob, service, '/gone')
    await subscribe(url, bob, service, '/live')
    const room = await directRoom(url, alice, bob)
    await post(url, alice, room.id, 'first')
    await service.until((r) => r.path === '/live', 1)
    await eventually(async () => (await metric(url, 'chat_outgoing_failed_total{kind="push",reason="rejected"}')) === 1, 5000, 'the 410 counted')
    await post(url, alice, room.id, 'second')
    await service.until((r) => r.path === '/live', 2)
    expect(service.received.filter((r) => r.path === '/gone')).toHaveLength(1)
  })

  it('pushes nothing to a deactivated user', async () => {
    const service = track(startReceiver(created))
    const { url, alice, bob } = await setUp()
    await subscribe(url, bob, service, '/bob')
    const room = await directRoom(url, alice, bob)
    // alice, the server's first account, is its admin.
    expect((await call(url, `/api/admin/users/${bob.id}`, { method: 'PATCH', token: alice.token, body: { deactivated: true } })).status).toBe(200)
    await post(url, alice, room.id, 'are you still here?')
    await eventually(async () => (await metric(url, 'chat_outgoing_skipped_total{kind="push",reason="gone"}')) === 1, 5000, 'the push skipped')
    expect(service.received).toHaveLength(0)
  })

  it('sends the pushes pending at a SIGKILL after the restart, each once', async () => {
    const service = track(startReceiver(() => new Response(null, { status: 503 })))
    // A push in flight at the kill is taken again when its lease (2 x the timeout + 1 s) runs out.
    const child = await spawnServer({ env: { PUSH_ALLOW_HTTP: 'true', DELIVERY_RETRY_BASE_MS: '200', WEBHOOK_TIMEOUT_MS: '1000' } })
    try {
      const [alice, bob] = [await newUser(child.url, 'pka'), await newUser(child.url, 'pkb')]
      const subscription = await subscribe(child.url, bob, service, '/bob')
      const room = await directRoom(child.url, alice, bob)
      const posted: number[] = []
      for (let i = 0; i < 10; i++) posted.push((await post(child.url, alice, room.id, `pending ${i}`)).id)
      await service.next()
      await child.stop('SIGKILL')

      const delivered: Received[] = []
      service.answer((r) => {
        delivered.push(r)
        return created()
      })
      await child.restart()
      await eventually(async () => delivered.length >= posted.length, 15_000, 'every pending push sent')
      const ids = await Promise.all(delivered.map(async (p) => (await opened(child.url, bob.token, p, subscription)).messageId as number))
      expect(ids.toSorted((a, b) => a - b)).toEqual(posted)
    } finally {
      await child.stop('SIGKILL')
    }
  })

  it('with Redis, two instances started together sign with one key, and a stream on one keeps the other from pushing', async () => {
    const service = track(startReceiver(created))
    const awayMs = 500
    const cluster = await startCluster(2, { PUSH_ALLOW_HTTP: 'true', PUSH_AWAY_MS: String(awayMs) })
    try {
      const [alice, bob] = [await newUser(cluster.url(0), 'rpa'), await newUser(cluster.url(1), 'rpb')]
      const keys = await Promise.all([0, 1].map(async (i) => (await call(cluster.url(i), '/api/push/key', { token: alice.token })).body.publicKey))
      expect(keys[1]).toBe(keys[0])
      const subscription = await subscribe(cluster.url(0), bob, service, '/bob')
      const room = await directRoom(cluster.url(0), alice, bob)
      const skipped = async () =>
        (await metric(cluster.url(0), 'chat_outgoing_skipped_total{kind="push",reason="present"}')) +
        (await metric(cluster.url(1), 'chat_outgoing_skipped_total{kind="push",reason="present"}'))

      const stream = await cluster.stream(0, bob, '/api/chat/stream')
      await eventually(async () => (await call(cluster.url(1), `/api/chat/rooms/${room.id}`, { token: alice.token })).body.participants.some((p: any) => p.id === bob.id && p.online), 5000, 'bob online on instance 1')
      // Posted on both instances: whichever sends the push sees bob's stream on instance 0.
      await post(cluster.url(1), alice, room.id, 'seen from afar')
      await post(cluster.url(0), alice, room.id, 'seen from here')
      await eventually(async () => (await skipped()) === 2, 5000, 'both pushes skipped')
      stream.close()
      const closedAt = Date.now()
      await eventually(async () => !(await call(cluster.url(1), `/api/chat/rooms/${room.id}`, { token: alice.token })).body.participants.find((p: any) => p.id === bob.id).online, 6000, 'bob offline')
      await Bun.sleep(Math.max(0, closedAt + awayMs + 50 - Date.now()))
      const away = await post(cluster.url(1), alice, room.id, 'bob is away')
      const push = await service.next()
      expect((await opened(cluster.url(1), bob.token, push, subscription)).messageId).toBe(away.id)
      expect(service.received).toHaveLength(1)
    } finally {
      await cluster.stop()
    }
  })
})
