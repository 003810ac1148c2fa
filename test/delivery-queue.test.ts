/**
 * The delivery queue (issue 13) as a whole: two instances on one database never send the
 * same call; a slow endpoint does not hold up the others; a call failing past
 * DELIVERY_GIVE_UP_MS (after at least 3 tries) is dropped and counted; the backlog shows in
 * /metrics.
 */
import { afterEach, describe, expect, it } from 'bun:test'
import { call, eventually, newUser, post, startServer, type TestServer, type TestUser } from './helpers'
import { closeAfterEach } from './support/close-after-each'
import { never, startReceiver } from './support/http-receiver'
import { spawnServer } from './support/server-process'

const track = closeAfterEach()
let server: TestServer | undefined
afterEach(async () => {
  await server?.stop()
  server = undefined
})

async function createBot(url: string, admin: TestUser, name: string, webhookUrl: string): Promise<TestUser> {
  const res = await call(url, '/api/admin/bots', { token: admin.token, body: { username: name, webhookUrl } })
  if (res.status !== 201) throw new Error(`create bot: ${res.status} ${JSON.stringify(res.body)}`)
  return { id: res.body.user.id, username: name, token: res.body.token }
}

const directRoom = async (url: string, user: TestUser, other: TestUser) =>
  (await call(url, `/api/chat/users/${other.id}/rooms`, { token: user.token, method: 'POST' })).body as { id: number }

async function metric(url: string, line: string): Promise<number> {
  const text = await (await fetch(url + '/metrics')).text()
  const found = text.split('\n').find((l) => l.startsWith(line + ' '))
  return found ? Number(found.slice(line.length + 1)) : 0
}

const SENT = 'chat_outgoing_sent_total{kind="webhook"}'

describe('delivery queue', () => {
  it('never sends the same call from two instances on one database', async () => {
    const receiver = track(startReceiver(async () => {
      await Bun.sleep(10)
      return new Response(null, { status: 204 })
    }))
    const a = await spawnServer()
    const b = await spawnServer({ dbPath: a.dbPath })
    try {
      const admin = await newUser(a.url, 'twoadmin')
      const member = await newUser(a.url, 'twomember')
      const bots = [await createBot(a.url, admin, 'two-bot-1', receiver.url), await createBot(a.url, admin, 'two-bot-2', receiver.url)]
      const rooms = [await directRoom(a.url, member, bots[0]!), await directRoom(b.url, member, bots[1]!)]
      const posted: number[] = []
      for (let i = 0; i < 120; i++) posted.push((await post(i % 2 ? a.url : b.url, member, rooms[i % 2]!.id, `call ${i}`)).id)

      await receiver.until(() => true, posted.length, 30_000)
      const ids = receiver.received.map((r) => r.json.message.id as number)
      expect(ids.toSorted((x, y) => x - y)).toEqual(posted)
      const counts = async () => [await metric(a.url, SENT), await metric(b.url, SENT)] as const
      await eventually(async () => (await counts()).reduce((x, y) => x + y) === posted.length, 5000, 'each call counted once, by one instance')
      const [fromA, fromB] = await counts()
      // Both took part: the claims really raced.
      expect(fromA).toBeGreaterThan(0)
      expect(fromB).toBeGreaterThan(0)
    } finally {
      await Promise.all([a.stop('SIGKILL'), b.stop('SIGKILL')])
    }
  })

  it('keeps a slow endpoint from delaying the calls to others', async () => {
    const slow = track(startReceiver(() => never()))
    const fast = track(startReceiver())
    server = await startServer({ webhookTimeoutMs: 5000, deliveryConcurrency: 8 })
    const { url } = server
    const admin = await newUser(url, 'slowadmin')
    const member = await newUser(url, 'slowmember')
    const slowBot = await createBot(url, admin, 'slow-endpoint', slow.url)
    const fastBot = await createBot(url, admin, 'fast-endpoint', fast.url)
    const slowRoom = await directRoom(url, member, slowBot)
    for (let i = 0; i < 20; i++) await post(url, member, slowRoom.id, `slow ${i}`)
    await slow.next()
    const message = await post(url, member, (await directRoom(url, member, fastBot)).id, 'quick one')

    const got = await fast.next()
    expect(got.json.message.id).toBe(message.id)
    // Every slow call was still hanging (none had timed out): the fast one did not wait for them.
    expect(await metric(url, 'chat_outgoing_retried_total{kind="webhook"}')).toBe(0)
    expect(slow.received.length).toBeLessThan(20)
  })

  it('gives up a call still failing after DELIVERY_GIVE_UP_MS and 3 tries, and counts it', async () => {
    const receiver = track(startReceiver(() => new Response('down', { status: 502 })))
    server = await startServer({ deliveryRetryBaseMs: 20, deliveryGiveUpMs: 300 })
    const { url } = server
    const admin = await newUser(url, 'gaveadmin')
    const member = await newUser(url, 'gavemember')
    const bot = await createBot(url, admin, 'down-bot', receiver.url)
    await post(url, member, (await directRoom(url, member, bot)).id, 'anyone?')

    await eventually(async () => (await metric(url, 'chat_outgoing_failed_total{kind="webhook",reason="expired"}')) === 1, 10_000, 'the call given up')
    expect(receiver.received.length).toBeGreaterThanOrEqual(3)
    expect(await metric(url, 'chat_outgoing_retried_total{kind="webhook"}')).toBe(receiver.received.length - 1)
    await eventually(async () => (await metric(url, 'chat_outgoing_pending')) === 0, 5000, 'the queue empty')
  })

  it('shows the pending calls and the age of the oldest in /metrics', async () => {
    const receiver = track(startReceiver(() => new Response('later', { status: 503 })))
    server = await startServer({ deliveryRetryBaseMs: 60_000 })
    const { url } = server
    const admin = await newUser(url, 'gaugeadmin')
    const member = await newUser(url, 'gaugemember')
    const bot = await createBot(url, admin, 'gauge-bot', receiver.url)
    const room = await directRoom(url, member, bot)
    for (let i = 0; i < 5; i++) await post(url, member, room.id, `waiting ${i}`)
    await receiver.until(() => true, 5)

    await eventually(async () => (await metric(url, 'chat_outgoing_pending')) === 5, 5000, 'five pending')
    await eventually(async () => (await metric(url, 'chat_outgoing_oldest_pending_seconds')) > 0, 5000, 'an age')
    expect(await metric(url, 'chat_outgoing_retried_total{kind="webhook"}')).toBe(5)
  })
})
