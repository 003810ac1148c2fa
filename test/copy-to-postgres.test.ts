// store: sqlite only (picks both stores itself: a server on SQLite, the copy, a server on PostgreSQL)
/**
 * `chat-server copy-to-postgres` (a child process) on a database the suite makes through the
 * HTTP API of a real server on SQLite: accounts of every kind, rooms, messages with mentions,
 * replies, reactions, edits, a deletion, an upload, read markers and notification levels, an
 * access token, a bot with a webhook, an invite, a reset link, a push subscription. Then a
 * server on the PostgreSQL copy must answer every read as the SQLite server did, with the same
 * ids; let the same people in with the same passwords and tokens; serve the file; resume a
 * stream from a Last-Event-ID of before the move with exactly the newer events; push with the
 * old VAPID key and call the bot signed with its old secret.
 */
import { Database } from 'bun:sqlite'
import { afterAll, beforeAll, describe, expect, it, setDefaultTimeout } from 'bun:test'
import { createHmac } from 'node:crypto'
import { join } from 'node:path'
import { call, createRoom, eventually, newUser, openStream, post, startServer, tempDir, type SseEvent, type TestServer, type TestUser } from './helpers'
import { runCli, type CliRun } from './support/cli'
import { startReceiver, type Receiver } from './support/http-receiver'
import { SQL } from 'bun'
import { MIGRATIONS } from '../src/store/migrations'
import { createTestDatabase, skipWithoutPostgres, type TestDatabase } from './support/postgres'
import { newSubscription, verifyVapid, type TestSubscription } from './support/push-subscriber'

setDefaultTimeout(60_000)

const noPostgres = await skipWithoutPostgres()
const PASSWORD = 'password-123'
const FILE_BYTES = 'the meeting notes\n'.repeat(100)

/** Everything made on the SQLite server that the checks after the move refer to. */
interface World {
  alice: TestUser
  bob: TestUser
  carol: TestUser
  frank: TestUser
  group: number
  direct: number
  first: number
  reply: number
  deleted: number
  attachmentUrl: string
  accessToken: string
  bot: { id: number; username: string; token: string; secret: string }
  /** The X-Chat-Delivery of the call to the second bot still in flight when the SQLite server stopped. */
  pendingCall: string
  invite: string
  resetToken: string
  vapidKey: string
  /** The newest event id on SQLite. */
  lastId: number
}

const reads = async (url: string, w: World) => {
  const get = async (path: string, token: string) => {
    const res = await call(url, path, { token })
    expect(res.status, `GET ${path}`).toBe(200)
    return res.body
  }
  const perUser: Record<string, unknown> = {}
  for (const user of [w.alice, w.bob, w.carol]) {
    perUser[user.username] = {
      me: await get('/api/auth/me', user.token),
      rooms: await get('/api/chat/rooms', user.token),
      group: await get(`/api/chat/rooms/${w.group}/messages?limit=200`, user.token),
      mentions: await get('/api/chat/mentions', user.token),
    }
  }
  return {
    perUser,
    direct: await get(`/api/chat/rooms/${w.direct}/messages?limit=200`, w.bob.token),
    tokens: await get('/api/auth/tokens', w.alice.token),
    users: await get('/api/admin/users?limit=200', w.alice.token),
    invites: await get('/api/admin/invites', w.alice.token),
    // The second bot's call in flight is cut short (a failed try) by the SQLite server's stop.
    bots: ((await get('/api/admin/bots', w.alice.token)) as { user: { id: number } }[]).filter((b) => b.user.id === w.bot.id),
    publicRooms: await get('/api/chat/rooms/public', w.alice.token),
    pushKey: await get('/api/push/key', w.alice.token),
    // PostgreSQL computes its search vectors from the copied rows.
    search: {
      hello: await get('/api/chat/search?q=hello', w.bob.token),
      notes: await get(`/api/chat/search?q=NOTES&roomId=${w.group}`, w.carol.token),
    },
  }
}

/** Times of last use move as the reads themselves use the tokens; everything else must not. */
const withoutUseTimes = (value: unknown): unknown =>
  JSON.parse(JSON.stringify(value), (key, v) => (key === 'lastUsedAt' ? undefined : v))

/** The events with an id a stream sent, as compared across the move. */
const idEvents = (events: SseEvent[]) => events.filter((e) => e.id !== undefined).map(({ event, id, json }) => ({ event, id, json }))

async function upload(url: string, user: TestUser, roomId: number, name: string, text: string) {
  const form = new FormData()
  form.append('file', new Blob([text], { type: 'text/plain' }), name)
  const res = await fetch(`${url}/api/chat/rooms/${roomId}/attachments`, { method: 'POST', headers: { authorization: `Bearer ${user.token}` }, body: form })
  expect(res.status).toBe(201)
  return (await res.json()) as { id: number; url: string }
}

async function ok(res: Promise<{ status: number; body: any }>, status = 200) {
  const reply = await res
  expect(reply.status, JSON.stringify(reply.body)).toBe(status)
  return reply.body
}

/** Builds the world on the SQLite server through its API. */
async function build(url: string, receiver: Receiver, subscription: TestSubscription): Promise<World> {
  const alice = await newUser(url, 'alice')
  const [bob, carol, frank] = [await newUser(url, 'bob'), await newUser(url, 'carol'), await newUser(url, 'frank')]
  const admin = { token: alice.token }
  const botMade = await ok(call(url, '/api/admin/bots', { ...admin, body: { username: `helper_${alice.id}_${Date.now() % 1e6}`, webhookUrl: `${receiver.url}/hook` } }), 201)
  const bot = { id: botMade.user.id as number, username: botMade.user.username as string, token: botMade.token as string, secret: botMade.webhookSecret as string }
  const slow = await ok(call(url, '/api/admin/bots', { ...admin, body: { username: `slow_${alice.id}_${Date.now() % 1e6}`, webhookUrl: `${receiver.url}/slow` } }), 201)
  const group = (await createRoom(url, alice, { name: 'general', visibility: 'public', participantIds: [bob.id, carol.id, frank.id, bot.id, slow.user.id] })).id
  await createRoom(url, bob, { name: 'lobby', visibility: 'public' })
  const direct = (await ok(call(url, `/api/chat/users/${bob.id}/rooms`, { ...admin, method: 'POST' }), 201)).id as number

  const first = (await post(url, alice, group, `hello @${bob.username} and @${carol.username}`)).id
  const reply = (await ok(call(url, `/api/chat/rooms/${group}/messages`, { token: bob.token, body: { content: 'hi!', replyToId: first, clientMessageId: 'bob-1' } }), 201)).id as number
  for (const [user, emoji] of [[bob, '🎉'], [carol, '🎉'], [bob, '+1']] as const) {
    await ok(call(url, `/api/chat/rooms/${group}/messages/${first}/reactions/${encodeURIComponent(emoji)}`, { token: user.token, method: 'PUT' }))
  }
  await ok(call(url, `/api/chat/rooms/${group}/messages/${first}`, { ...admin, method: 'PATCH', body: { content: `hello again @${bob.username} and @${carol.username}` } }))
  const deleted = (await post(url, carol, group, 'oops')).id
  await ok(call(url, `/api/chat/rooms/${group}/messages/${deleted}`, { token: carol.token, method: 'DELETE' }), 204)
  const file = await upload(url, alice, group, 'notes.txt', FILE_BYTES)
  await ok(call(url, `/api/chat/rooms/${group}/messages`, { ...admin, body: { content: 'the notes', attachmentIds: [file.id] } }), 201)
  await post(url, bob, direct, 'a word between us')
  // A bot call made and answered before the move: its last delivery is part of what is copied.
  await post(url, carol, group, `@${botMade.user.username} ping`)
  await receiver.next((r) => r.path === '/hook')

  await ok(call(url, `/api/chat/rooms/${group}/read`, { token: bob.token, body: { messageId: reply } }), 204)
  await ok(call(url, `/api/chat/rooms/${group}/notifications`, { token: carol.token, method: 'PUT', body: { level: 'all' } }), 204)
  await ok(call(url, '/api/push/subscriptions', { token: carol.token, body: { endpoint: subscription.endpoint, keys: subscription.keys } }), 201)
  const accessToken = (await ok(call(url, '/api/auth/tokens', { ...admin, body: { name: 'script' } }), 201)).token as string
  const invite = (await ok(call(url, '/api/admin/invites', { ...admin, body: { maxUses: 2 } }), 201)).token as string
  await ok(call(url, '/api/auth/register', { body: { username: `dave_${alice.id}`, password: PASSWORD, inviteToken: invite } }), 201)
  const resetToken = (await ok(call(url, `/api/admin/users/${carol.id}/password-reset`, { ...admin, method: 'POST' }), 201)).token as string
  await ok(call(url, `/api/admin/users/${frank.id}`, { ...admin, method: 'PATCH', body: { deactivated: true } }))
  const vapidKey = (await ok(call(url, '/api/push/key', admin))).publicKey as string

  // The first bot's call done and recorded (its last delivery, nothing pending); the second
  // bot's call in flight (its receiver holds the answer): the reads compare settled state.
  await eventually(async () => {
    const bots = (await call(url, '/api/admin/bots', admin)).body as { user: { id: number }; lastDelivery: unknown; pending: number }[]
    const row = bots.find((b) => b.user.id === bot.id)
    return row?.lastDelivery !== null && row?.pending === 0
  }, 10_000, "the bot's call recorded")
  await post(url, bob, group, `@${slow.user.username} take your time`)
  const held = await receiver.until((r) => r.path === '/slow', 1)
  const lastId = (await post(url, alice, group, 'the last word on SQLite')).id
  return { alice, bob, carol, frank, group, direct, first, reply, deleted, attachmentUrl: file.url, accessToken, bot, pendingCall: held[0]!.headers.get('x-chat-delivery')!, invite, resetToken, vapidKey, lastId }
}

/** The events with an id that a user stream resumed from `from` sends up to event `until`. */
async function replay(url: string, user: TestUser, from: number, until: number) {
  const stream = await openStream(url, '/api/chat/stream', user.token, { 'last-event-id': String(from) })
  try {
    await stream.until((s) => s.events.some((e) => Number(e.id) === until), 5000, `the replay up to event ${until}`)
    return idEvents(stream.events)
  } finally {
    stream.close()
  }
}

describe.skipIf(noPostgres)('copy-to-postgres: a database made through the API, moved', () => {
  let folder: string
  let target: TestDatabase
  let receiver: Receiver
  let subscription: TestSubscription
  let world: World
  let before: Awaited<ReturnType<typeof reads>>
  let replayed: ReturnType<typeof idEvents>
  let copy: CliRun
  let server: TestServer
  // PUBLIC_URL: the links a read returns (invites) do not name either server's own port.
  // A webhook timeout longer than the test: the held call stays in flight until released.
  const settings = { pushAllowHttp: true, webhookTimeoutMs: 60_000, publicUrl: 'https://chat.example.org' }
  let release: () => void
  const held = new Promise<void>((resolve) => (release = resolve))

  beforeAll(async () => {
    folder = tempDir()
    const databasePath = join(folder, 'chat.db')
    target = await createTestDatabase('copy')
    receiver = startReceiver(async (r) => {
      if (r.path === '/slow') await held
      return new Response(null, { status: 204 })
    })
    subscription = newSubscription(`${receiver.url}/push/carol`)
    const sqlite = await startServer({ ...settings, databasePath, databaseUrl: undefined })
    try {
      world = await build(sqlite.url, receiver, subscription)
      before = await reads(sqlite.url, world)
      replayed = await replay(sqlite.url, world.bob, world.first, world.lastId)
    } finally {
      await sqlite.stop()
    }
    copy = await runCli(['copy-to-postgres', '--database-path', databasePath, '--database-url', target.url])
    // The same folder, so FILES_PATH (beside the database by default) is the same one.
    server = await startServer({ ...settings, databasePath, databaseUrl: target.url, allowRegistration: false })
  })
  afterAll(async () => {
    await server?.stop()
    receiver?.close()
    await target?.drop()
  })

  it('prints the rows copied per table and the time, exit 0', () => {
    expect(copy.stderr).toBe('')
    expect(copy.code).toBe(0)
    expect(copy.lines[0]).toMatch(/^copied \S+chat\.db into postgres:\/\/\S+: [\d,]+ rows in \d+\.\d s \([\d,]+ rows\/s\)$/)
    const rows = Object.fromEntries(copy.lines.filter((l) => l.startsWith('  ')).map((l) => l.trim().split(/\s+/)).map(([t, n]) => [t, Number(n!.replace(/,/g, ''))]))
    expect(rows).toMatchObject({
      // alice, bob, carol, frank (deactivated), dave (invited), two bots
      users: 7,
      // the five people's sign-ins but frank's (ended), alice's access token, the bots' tokens
      sessions: 7,
      password_resets: 1,
      invites: 1,
      // frank's session ended and his account changed
      revocations: 2,
      rooms: 3,
      participants: 9,
      // seven posted, one deleted
      messages: 7,
      // three reactions, an edit, a deletion
      message_events: 5,
      mentions: 4,
      reactions: 3,
      files: 1,
      server_keys: 1,
      push_subscriptions: 1,
      // the first bot's answered call, the second's cut short by the stop
      webhook_deliveries: 2,
    })
    // The held call, and pushes still on their way.
    expect(rows.outgoing).toBeGreaterThanOrEqual(1)
    expect(copy.lines).toContain(`event ids continue after ${world.lastId}`)
  })

  it('answers every read exactly as the SQLite server did: rooms, history, reactions, edits, replies, read markers, counts, accounts', async () => {
    const after = await reads(server.url, world)
    expect(withoutUseTimes(after)).toEqual(withoutUseTimes(before))
    // The history holds what was made, by the same ids.
    const group = (after.perUser[world.bob.username] as { group: any[] }).group
    const first = group.find((m) => m.id === world.first)
    expect(first).toMatchObject({ editedAt: expect.any(String), mentions: [world.bob.id, world.carol.id] })
    expect(first.reactions).toEqual([{ emoji: '🎉', count: 2, userIds: [world.bob.id, world.carol.id] }, { emoji: '+1', count: 1, userIds: [world.bob.id] }])
    expect(group.find((m) => m.id === world.reply)).toMatchObject({ replyToId: world.first, clientMessageId: 'bob-1' })
    expect(group.some((m) => m.id === world.deleted)).toBe(false)
  })

  it('finds the copied messages by search as SQLite did', () => {
    // Also inside the comparison above; here on its own, so a difference is named.
    expect(before.search.hello.map((m: { id: number }) => m.id)).toEqual([world.first])
    expect(before.search.notes).toHaveLength(1)
  })

  it('lets the same people in with the same passwords, and keeps their session and access tokens', async () => {
    for (const user of [world.alice, world.bob]) {
      expect((await call(server.url, '/api/auth/login', { body: { username: user.username, password: PASSWORD } })).status).toBe(200)
      expect((await call(server.url, '/api/auth/login', { body: { username: user.username, password: 'wrong-password' } })).status).toBe(401)
      expect((await call(server.url, '/api/auth/me', { token: user.token })).body.user).toMatchObject({ id: user.id, username: user.username })
    }
    expect((await call(server.url, '/api/chat/rooms', { token: world.accessToken })).status).toBe(200)
    expect((await call(server.url, '/api/chat/rooms', { token: world.bot.token })).status).toBe(200)
    // Deactivated stays deactivated.
    expect((await call(server.url, '/api/auth/login', { body: { username: world.frank.username, password: PASSWORD } })).status).toBe(401)
    expect((await call(server.url, '/api/auth/me', { token: world.frank.token })).status).toBe(401)
  })

  it('serves the uploaded file from the same FILES_PATH', async () => {
    const res = await fetch(server.url + world.attachmentUrl, { headers: { authorization: `Bearer ${world.bob.token}` } })
    expect(res.status).toBe(200)
    expect(await res.text()).toBe(FILE_BYTES)
  })

  it('resumes a stream from a Last-Event-ID of before the move with exactly the newer events, then a new one', async () => {
    const newer = await post(server.url, world.alice, world.group, 'after the move')
    // Every id handed out after the move is greater than every copied one.
    expect(newer.id).toBeGreaterThan(world.lastId)
    const events = await replay(server.url, world.bob, world.first, newer.id)
    expect(replayed.length).toBeGreaterThan(8)
    expect(events.slice(0, -1)).toEqual(replayed)
    expect(events.at(-1)).toMatchObject({ event: 'message', id: String(newer.id) })
  })

  it('pushes to the old subscription signed with the old VAPID key, and calls the bot signed with its old secret', async () => {
    const message = await post(server.url, world.alice, world.group, 'pushed after the move')
    const push = await receiver.next((r) => r.path === '/push/carol' && JSON.parse(subscription.decrypt(r.body)).messageId === message.id, 15_000)
    verifyVapid(push.headers.get('authorization'), world.vapidKey, subscription.endpoint)
    const mention = await post(server.url, world.bob, world.group, `@${world.bot.username} are you there?`)
    const hook = await receiver.next((r) => r.path === '/hook' && r.json?.message?.id === mention.id, 15_000)
    expect(hook.headers.get('x-chat-signature')).toBe(`sha256=${createHmac('sha256', world.bot.secret).update(hook.body).digest('hex')}`)
  })

  it('makes the call that was in flight when the SQLite server stopped, as the same delivery', async () => {
    release()
    const calls = await receiver.until((r) => r.path === '/slow', 2, 15_000)
    expect(calls.at(-1)!.headers.get('x-chat-delivery')).toBe(world.pendingCall)
    await eventually(async () => {
      const bots = (await call(server.url, '/api/admin/bots', { token: world.alice.token })).body as { user: { id: number }; lastDelivery: { ok: boolean } | null; pending: number }[]
      return bots.every((b) => b.lastDelivery?.ok === true && b.pending === 0)
    }, 10_000, 'both bots answered, nothing pending')
  })

  it('keeps the invite with its uses and the reset link', async () => {
    const register = (username: string) => call(server.url, '/api/auth/register', { body: { username, password: PASSWORD, inviteToken: world.invite } })
    const erin = await register(`erin_${world.alice.id}`)
    expect(erin.status).toBe(201)
    expect(erin.body.user.id).toBeGreaterThan(Math.max(...before.users.map((u: { id: number }) => u.id)))
    expect((await register(`gina_${world.alice.id}`)).status).toBe(403)
    const reset = await call(server.url, '/api/auth/reset', { body: { token: world.resetToken, newPassword: 'carols-new-password' } })
    expect(reset.status).toBe(200)
    expect((await call(server.url, '/api/auth/login', { body: { username: world.carol.username, password: 'carols-new-password' } })).status).toBe(200)
  })

  it('refuses a second copy into the same database in one line, exit 1, and changes nothing', async () => {
    const again = await runCli(['copy-to-postgres', '--database-path', join(folder, 'chat.db'), '--database-url', target.url])
    expect(again.stdout).toBe('')
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/^chat-server: the PostgreSQL database postgres:\/\/\S+ is not empty \(it has users or messages\): copy into a new, empty database\n$/)
    expect((await call(server.url, '/api/auth/me', { token: world.alice.token })).status).toBe(200)
  })
})

describe.skipIf(noPostgres)('copy-to-postgres: refusals, and an older SQLite database', () => {
  const refused = (run: CliRun, code: number, line: RegExp) => {
    expect(run.stdout).toBe('')
    expect(run.code).toBe(code)
    expect(run.stderr).toMatch(line)
    expect(run.stderr.split('\n')).toHaveLength(2)
  }

  it('needs a PostgreSQL URL and an existing SQLite file', async () => {
    const path = join(tempDir(), 'none.db')
    refused(await runCli(['copy-to-postgres', '--database-path', path]), 2, /^chat-server: copy-to-postgres needs --database-url or DATABASE_URL/)
    refused(await runCli(['copy-to-postgres', '--database-path', path, '--database-url', 'postgres://postgres@127.0.0.1:5432/x']), 1, /^chat-server: no database at \S+none\.db /)
  })

  it('refuses a SQLite database newer than this version, writing nothing', async () => {
    const path = join(tempDir(), 'newer.db')
    const newer = new Database(path, { create: true })
    newer.run('PRAGMA user_version = 999')
    newer.close()
    const target = await createTestDatabase('copy_newer')
    const sql = new SQL(target.url, { max: 1 })
    try {
      refused(await runCli(['copy-to-postgres', '--database-path', path, '--database-url', target.url]), 1, /^chat-server: database schema version 999 is newer than this server supports \(\d+\); upgrade the server\n$/)
      expect((await sql`SELECT to_regclass('users') AS t`)[0].t).toBeNull()
    } finally {
      await sql.close()
      await target.drop()
    }
  })

  it('upgrades an older SQLite database first, as the server would, then copies it', async () => {
    // A database as version 5 left it: before roles, access tokens and integrations.
    const path = join(tempDir(), 'older.db')
    const older = new Database(path, { create: true })
    for (const step of MIGRATIONS.slice(0, 5)) older.run(step)
    older.run('PRAGMA user_version = 5')
    older.run(`INSERT INTO users (id, username, display_name, password_hash, created_at) VALUES (3, 'old', 'Old', 'x', 1)`)
    older.close()
    const target = await createTestDatabase('copy_older')
    const sql = new SQL(target.url, { max: 1 })
    try {
      const run = await runCli(['copy-to-postgres', '--database-path', path, '--database-url', target.url])
      expect(run.stderr).toBe('')
      expect(run.code).toBe(0)
      expect(run.lines).toContain('  users               1')
      // Upgraded in place, as starting this version's server on it would have.
      const upgraded = new Database(path, { readonly: true })
      expect((upgraded.query('PRAGMA user_version').get() as { user_version: number }).user_version).toBe(MIGRATIONS.length)
      upgraded.close()
      // The oldest account became the admin in the upgrade; the next account gets id 4.
      expect(await sql`SELECT id::int, username, role FROM users`).toEqual([{ id: 3, username: 'old', role: 'admin' }])
      expect((await sql`SELECT nextval(pg_get_serial_sequence('users', 'id'))::int AS next`)[0].next).toBe(4)
    } finally {
      await sql.close()
      await target.drop()
    }
  })

  it('stops at a NUL character in text, naming its row; --replace-nul writes U+FFFD instead', async () => {
    // The API refuses NUL now, but a database written before it may hold one (SQLite took
    // it); PostgreSQL's text cannot. Written into the file directly, as an older server did.
    const sqlite = await startServer({ databaseUrl: undefined })
    const user = await newUser(sqlite.url, 'nul')
    const room = await createRoom(sqlite.url, user)
    const message = await post(sqlite.url, user, room.id, 'before')
    await sqlite.stop()
    const file = new Database(sqlite.config.databasePath)
    file.query('UPDATE messages SET content = ? WHERE id = ?').run('before\u0000after', message.id)
    file.close()
    const target = await createTestDatabase('copy_nul')
    const sql = new SQL(target.url, { max: 1 })
    const args = ['copy-to-postgres', '--database-path', sqlite.config.databasePath, '--database-url', target.url]
    try {
      const stopped = await runCli(args)
      refused(stopped, 1, new RegExp(`^chat-server: messages \\(id ${message.id}\\): content holds a NUL character, which PostgreSQL cannot store; nothing was copied \\(--replace-nul writes U\\+FFFD in its place\\)\n$`))
      expect((await sql`SELECT count(*)::int AS n FROM users`)[0].n).toBe(0)
      const replaced = await runCli([...args, '--replace-nul'])
      expect(replaced.code).toBe(0)
      expect(replaced.lines).toContain('1 text value(s) held a NUL character: written with U+FFFD in its place')
      expect((await sql`SELECT content FROM messages WHERE id = ${message.id}`)[0].content).toBe('before\ufffdafter')
    } finally {
      await sql.close()
      await target.drop()
    }
  })

  it('says when PostgreSQL cannot be reached, without printing the password', async () => {
    const sqlite = await startServer({ databaseUrl: undefined })
    await sqlite.stop()
    const run = await runCli(['copy-to-postgres', '--database-path', sqlite.config.databasePath, '--database-url', 'postgres://postgres:hunter2@127.0.0.1:1/chat'])
    refused(run, 1, /^chat-server: cannot reach PostgreSQL at postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:1\/chat: /)
    expect(run.stderr).not.toContain('hunter2')
  })
})
