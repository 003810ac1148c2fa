/**
 * Outgoing webhooks (issue 13) against a real receiver started by the test: the payload and its
 * signature, who is called (a mentioned bot, a bot in a direct room, never for its own
 * messages), the answer posted back as the bot's reply, retries of a timeout and a 5xx, no
 * retry of a 4xx, and calls pending across a SIGKILL of the server.
 */
import { createHmac } from 'node:crypto'
import { afterEach, describe, expect, it } from 'bun:test'
import { call, createRoom, eventually, newUser, openStream, post, startServer, type TestServer, type TestUser } from './helpers'
import { closeAfterEach } from './support/close-after-each'
import { never, startReceiver, type Received } from './support/http-receiver'
import { spawnServer } from './support/server-process'

const track = closeAfterEach()
let server: TestServer | undefined
afterEach(async () => {
  await server?.stop()
  server = undefined
})

interface Bot extends TestUser {
  webhookSecret: string
}

async function createBot(url: string, admin: TestUser, name: string, webhookUrl: string): Promise<Bot> {
  const res = await call(url, '/api/admin/bots', { token: admin.token, body: { username: name, webhookUrl } })
  if (res.status !== 201) throw new Error(`create bot: ${res.status} ${JSON.stringify(res.body)}`)
  return { id: res.body.user.id, username: name, token: res.body.token, webhookSecret: res.body.webhookSecret }
}

async function directRoom(url: string, user: TestUser, other: TestUser) {
  const res = await call(url, `/api/chat/users/${other.id}/rooms`, { token: user.token, method: 'POST' })
  if (res.status !== 201 && res.status !== 200) throw new Error(`direct room: ${res.status}`)
  return res.body as { id: number; name: string }
}

/** What a receiver does with the signature: HMAC-SHA256 of the raw body with the bot's secret. */
const verified = (r: Received, secret: string) =>
  r.headers.get('x-chat-signature') === `sha256=${createHmac('sha256', secret).update(r.body).digest('hex')}`

async function metric(url: string, line: string): Promise<number> {
  const text = await (await fetch(url + '/metrics')).text()
  const found = text.split('\n').find((l) => l.startsWith(line + ' '))
  return found ? Number(found.slice(line.length + 1)) : 0
}

/** A fresh server (one call at a time, so calls leave in the order their messages were stored) and its admin. */
async function setUp(overrides: Parameters<typeof startServer>[0] = {}) {
  server = await startServer({ deliveryConcurrency: 1, ...overrides })
  const admin = await newUser(server.url, 'whadmin')
  const member = await newUser(server.url, 'whmember')
  return { url: server.url, admin, member }
}

describe('outgoing webhooks', () => {
  it('with PUBLIC_URL, the payload\'s attachment urls are absolute (the receiver has no origin to resolve them against)', async () => {
    const receiver = track(startReceiver())
    const { url, admin, member } = await setUp({ publicUrl: 'https://chat.example.org' })
    const bot = await createBot(url, admin, 'files-bot', `${receiver.url}/hook`)
    const room = await directRoom(url, member, bot)
    const form = new FormData()
    form.append('file', new File(['report'], 'report.txt', { type: 'text/plain' }))
    const uploaded = await fetch(`${url}/api/chat/rooms/${room.id}/attachments`, { method: 'POST', headers: { authorization: `Bearer ${member.token}` }, body: form })
    expect(uploaded.status).toBe(201)
    const attachment = await uploaded.json()
    const posted = await call(url, `/api/chat/rooms/${room.id}/messages`, { token: member.token, body: { content: 'the report', attachmentIds: [attachment.id] } })
    expect(posted.status).toBe(201)
    const got = await receiver.next()
    expect(got.json.message.attachments.map((a: { url: string }) => a.url)).toEqual([`https://chat.example.org${attachment.url}`])
    expect(posted.body.attachments[0].url).toBe(attachment.url)
  })

  it('posts the message, its room and its sender, signed with the secret shown once when the bot was made', async () => {
    const receiver = track(startReceiver())
    const { url, admin, member } = await setUp()
    const bot = await createBot(url, admin, 'deploy-bot', `${receiver.url}/hook`)
    expect(bot.webhookSecret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const room = await directRoom(url, member, bot)
    const message = await post(url, member, room.id, 'status?')

    const got = await receiver.next()
    expect(got.path).toBe('/hook')
    expect(got.headers.get('content-type')).toBe('application/json')
    expect(verified(got, bot.webhookSecret)).toBe(true)
    expect(verified(got, 'another secret')).toBe(false)
    expect(Object.keys(got.json).sort()).toEqual(['message', 'room', 'sender'])
    expect(got.json.message).toEqual(message)
    expect(got.json.room).toEqual({ id: room.id, name: room.name, type: 'direct' })
    expect(got.json.sender).toMatchObject({ id: member.id, username: member.username, role: 'member', deactivated: false })
    expect(typeof got.json.sender.online).toBe('boolean')
    // Mentioned in a direct room: one call, not one for each reason.
    const mentioned = await post(url, member, room.id, '@deploy-bot and again')
    const marker = await post(url, member, room.id, 'marker')
    await receiver.until(() => true, 3)
    expect(receiver.received.map((r) => r.json.message.id)).toEqual([message.id, mentioned.id, marker.id])
    // Listing bots never shows the secret again: it is only in the creation answer.
    const listed = await call(url, `/api/admin/users?q=deploy-bot`, { token: admin.token })
    expect(JSON.stringify(listed.body)).not.toContain(bot.webhookSecret)
  })

  it('calls a bot mentioned in a group room, not one merely present, and never for its own messages', async () => {
    const receiver = track(startReceiver())
    const { url, admin, member } = await setUp()
    const bot = await createBot(url, admin, 'ci-bot', receiver.url)
    const room = await createRoom(url, member, { participantIds: [bot.id] })
    const plain = await post(url, member, room.id, 'no bot here')
    const own = await post(url, bot, room.id, 'I am @ci-bot')
    const mention = await post(url, member, room.id, '@ci-bot deploy status')

    // One call at a time in the order of the messages: had the first two been owed a call,
    // it would have come first.
    const got = await receiver.next()
    expect(got.json.message.id).toBe(mention.id)
    expect(receiver.received.map((r) => r.json.message.id)).not.toContain(plain.id)
    expect(receiver.received.map((r) => r.json.message.id)).not.toContain(own.id)
    expect(got.json.room.type).toBe('group')
  })

  it("posts a 2xx answer's text or JSON content back as the bot's reply to the message; a blank one posts nothing", async () => {
    const receiver = track(
      startReceiver((r) => {
        const content = r.json.message.content as string
        if (content.includes('text')) return new Response('pong from text', { headers: { 'content-type': 'text/plain; charset=utf-8' } })
        if (content.includes('json')) return Response.json({ content: 'pong from json' })
        return Response.json({ content: '   ' })
      }),
    )
    const { url, admin, member } = await setUp()
    const bot = await createBot(url, admin, 'echo-bot', receiver.url)
    const room = await directRoom(url, member, bot)
    const stream = track(await openStream(url, `/api/chat/rooms/${room.id}/subscribe`, member.token))
    const blank = await post(url, member, room.id, 'blank please')
    const text = await post(url, member, room.id, 'text please')
    const json = await post(url, member, room.id, 'json please')

    const first = await stream.next((e) => e.event === 'message' && e.json.senderId === bot.id)
    expect(first.json).toMatchObject({ content: 'pong from text', replyToId: text.id, roomId: room.id, messageType: 'MESSAGE' })
    const second = await stream.next((e) => e.event === 'message' && e.json.senderId === bot.id)
    expect(second.json).toMatchObject({ content: 'pong from json', replyToId: json.id })
    const history = await call(url, `/api/chat/rooms/${room.id}/messages`, { token: member.token })
    expect(history.body.filter((m: any) => m.replyToId === blank.id)).toEqual([])
    // The bot's reply is the bot's own message: it causes no call.
    expect(receiver.received).toHaveLength(3)
  })

  it('reads only the first 64 KiB of an answer: a longer JSON answer posts nothing, a long text is cut to a message', async () => {
    const receiver = track(
      startReceiver((r) =>
        r.json.message.content === 'json'
          ? Response.json({ content: 'cut off', pad: 'x'.repeat(70 * 1024) })
          : new Response('y'.repeat(200 * 1024), { headers: { 'content-type': 'text/plain' } }),
      ),
    )
    const { url, admin, member } = await setUp()
    const bot = await createBot(url, admin, 'long-bot', receiver.url)
    const room = await directRoom(url, member, bot)
    const stream = track(await openStream(url, `/api/chat/rooms/${room.id}/subscribe`, member.token))
    const json = await post(url, member, room.id, 'json')
    const text = await post(url, member, room.id, 'text')

    const reply = await stream.next((e) => e.event === 'message' && e.json.senderId === bot.id)
    expect(reply.json.replyToId).toBe(text.id)
    expect(reply.json.content).toBe('y'.repeat(4000))
    const history = await call(url, `/api/chat/rooms/${room.id}/messages`, { token: member.token })
    expect(history.body.filter((m: any) => m.replyToId === json.id)).toEqual([])
  })

  it('retries a call that timed out, then one answered 5xx, then 429, with the same delivery id, until a 2xx', async () => {
    const answers = [never, () => new Response('busy', { status: 503 }), () => new Response('slow down', { status: 429 })]
    const receiver = track(startReceiver((_, i) => answers[i]?.() ?? new Response(null, { status: 204 })))
    const { url, admin, member } = await setUp({ webhookTimeoutMs: 300, deliveryRetryBaseMs: 50 })
    const bot = await createBot(url, admin, 'slow-bot', receiver.url)
    const room = await directRoom(url, member, bot)
    const message = await post(url, member, room.id, 'are you there?')

    const tries = await receiver.until(() => true, 4)
    expect(tries.map((r) => r.json.message.id)).toEqual([message.id, message.id, message.id, message.id])
    expect(new Set(tries.map((r) => r.headers.get('x-chat-delivery'))).size).toBe(1)
    await eventually(async () => (await metric(url, 'chat_outgoing_sent_total{kind="webhook"}')) === 1, 5000, 'the call counted as sent')
    expect(await metric(url, 'chat_outgoing_retried_total{kind="webhook"}')).toBe(3)
  })

  it('does not retry a 4xx (other than 408/429): the call is given up and counted', async () => {
    const receiver = track(startReceiver(() => new Response('no such command', { status: 400 })))
    const { url, admin, member } = await setUp({ deliveryRetryBaseMs: 10 })
    const bot = await createBot(url, admin, 'strict-bot', receiver.url)
    const room = await directRoom(url, member, bot)
    await post(url, member, room.id, 'first')
    await receiver.next()
    await eventually(async () => (await metric(url, 'chat_outgoing_failed_total{kind="webhook",reason="rejected"}')) === 1, 5000, 'the refusal counted')
    // The next message's call comes after the first would have been retried: it was not.
    receiver.answer(() => new Response(null, { status: 204 }))
    const second = await post(url, member, room.id, 'second')
    const next = await receiver.next()
    expect(next.json.message.id).toBe(second.id)
    expect(receiver.received).toHaveLength(2)
    expect(await metric(url, 'chat_outgoing_retried_total{kind="webhook"}')).toBe(0)
  })

  it("lists the bots for admins with each one's webhook URL, last try and waiting calls", async () => {
    const ok = track(startReceiver())
    const down = track(startReceiver(() => new Response('down', { status: 503 })))
    const { url, admin, member } = await setUp({ deliveryRetryBaseMs: 60_000 })
    const good = await createBot(url, admin, 'good-bot', ok.url)
    const bad = await createBot(url, admin, 'bad-bot', down.url)
    await post(url, member, (await directRoom(url, member, good)).id, 'hello good')
    await post(url, member, (await directRoom(url, member, bad)).id, 'hello bad')
    await ok.next()
    await down.next()

    const list = async () => (await call(url, '/api/admin/bots', { token: admin.token })).body as any[]
    await eventually(async () => (await list()).every((b) => b.lastDelivery !== null), 5000, 'both tries recorded')
    const [first, second] = await list()
    expect(first).toMatchObject({ user: { id: good.id, role: 'bot' }, webhookUrl: `${ok.url}/`, lastDelivery: { ok: true, status: 204, error: null }, pending: 0 })
    expect(second).toMatchObject({ user: { id: bad.id }, lastDelivery: { ok: false, status: 503 }, pending: 1 })
    expect(new Date(second.lastDelivery.at).getTime()).toBeGreaterThan(Date.now() - 60_000)
    expect((await call(url, '/api/admin/bots', { token: member.token })).status).toBe(403)
  })

  it('sends the calls pending at a SIGKILL after the restart, each answered once', async () => {
    const receiver = track(startReceiver(() => new Response('down', { status: 503 })))
    const child = await spawnServer({ env: { DELIVERY_RETRY_BASE_MS: '200', WEBHOOK_TIMEOUT_MS: '1000' } })
    try {
      const admin = await newUser(child.url, 'killadmin')
      const member = await newUser(child.url, 'killmember')
      const bot = await createBot(child.url, admin, 'kill-bot', receiver.url)
      const room = await directRoom(child.url, member, bot)
      const posted = []
      for (let i = 0; i < 20; i++) posted.push((await post(child.url, member, room.id, `pending ${i}`)).id)
      await receiver.next()
      expect(await child.stop('SIGKILL')).not.toBe(0)

      const answered: number[] = []
      receiver.answer((r) => {
        answered.push(r.json.message.id)
        return new Response(null, { status: 204 })
      })
      await child.restart()
      await eventually(async () => new Set(answered).size === posted.length, 15_000, 'every pending call sent after the restart')
      expect(answered.toSorted((a, b) => a - b)).toEqual(posted)
    } finally {
      await child.stop('SIGKILL')
    }
  })
})
