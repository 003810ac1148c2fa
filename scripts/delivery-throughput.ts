/**
 * The delivery queue's throughput: how many calls per second one server sends to a local
 * receiver. The queue is filled while the server is down (messages written straight into the
 * database: the triggers of migration 7 queue their calls as for any post), then the server
 * starts and the clock runs from its start-up line until the receiver has every call. Two
 * rounds: webhook calls (signed JSON to 16 bots) and Web Push (aes128gcm-encrypted, VAPID-signed,
 * to 16 subscriptions of one away user).
 * Usage: bun scripts/delivery-throughput.ts [--calls 4000] [--bin dist/chat-server]
 */
import { Database } from 'bun:sqlite'
import { parseArgs } from 'node:util'
import { resolve } from 'node:path'

const { values } = parseArgs({ options: { calls: { type: 'string', default: '4000' }, bin: { type: 'string' } } })
if (values.bin) process.env.CHAT_SERVER_BIN = resolve(values.bin)
const CALLS = Number(values.calls)
const TARGETS = 16

// Loaded after CHAT_SERVER_BIN is set: server-process.ts reads it when it loads.
const { spawnServer } = await import('../test/support/server-process')
const { startReceiver } = await import('../test/support/http-receiver')
const { call, newUser } = await import('../test/helpers')
const { newSubscription } = await import('../test/support/push-subscriber')

const receiver = startReceiver(() => new Response(null, { status: 201 }))
const server = await spawnServer({ env: { RATE_LIMIT_MESSAGES_PER_MINUTE: '0', PUSH_ALLOW_HTTP: 'true', LOG_LEVEL: 'error' } })
try {
  const admin = await newUser(server.url, 'tpadmin')
  const member = await newUser(server.url, 'tpmember')
  const rooms: { roomId: number; botId: number }[] = []
  for (let i = 0; i < TARGETS; i++) {
    const bot = await call(server.url, '/api/admin/bots', { token: admin.token, body: { username: `tp-bot-${i}`, webhookUrl: `${receiver.url}/hook/${i}` } })
    const room = await call(server.url, `/api/chat/users/${bot.body.user.id}/rooms`, { token: member.token, method: 'POST' })
    rooms.push({ roomId: room.body.id, botId: bot.body.user.id })
  }

  /** Stops the server, writes `count` messages (sender picked per message), starts it, times the drain. */
  async function round(label: string, count: number, expected: number, senderOf: (room: (typeof rooms)[number]) => number) {
    await server.stop('SIGTERM')
    const db = new Database(server.dbPath)
    db.run('PRAGMA busy_timeout = 5000')
    const insert = db.query(`INSERT INTO messages (room_id, sender_id, content, message_type, created_at) VALUES (?, ?, ?, 'MESSAGE', ?)`)
    db.transaction(() => {
      for (let i = 0; i < count; i++) {
        const room = rooms[i % rooms.length]!
        insert.run(room.roomId, senderOf(room), `message ${i} for the throughput run`, Date.now())
      }
    })()
    const queued = (db.query('SELECT count(*) AS n FROM outgoing').get() as { n: number }).n
    db.close()
    if (queued !== expected) throw new Error(`${label}: ${queued} calls queued, expected ${expected}`)
    const before = receiver.received.length
    const started = performance.now()
    await server.restart()
    await receiver.until(() => true, before + expected, 120_000)
    const seconds = (performance.now() - started) / 1000
    console.log(`${label}: ${expected} calls in ${seconds.toFixed(2)} s (server start included): ${Math.round(expected / seconds)} calls/s`)
  }

  await round('webhooks', CALLS, CALLS, () => member.id)
  for (let i = 0; i < TARGETS; i++) {
    const subscription = newSubscription(`${receiver.url}/push/${i}`)
    await call(server.url, '/api/push/subscriptions', { token: member.token, body: { endpoint: subscription.endpoint, keys: subscription.keys } })
  }
  const messages = Math.ceil(CALLS / TARGETS)
  await round('web push', messages, messages * TARGETS, (room) => room.botId)
} finally {
  await server.stop('SIGKILL').catch(() => {})
  receiver.close()
}
