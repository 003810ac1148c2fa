/**
 * What a user stream's resume after a long gap costs: for each gap size, a database where a
 * reader is in ROOMS rooms (and as many other rooms are busy too), a gap of events seeded
 * straight into the file after the reader's last seen id (messages, with an edit and a
 * deletion now and then), then the compiled binary started on it and the reader's user stream
 * opened with that Last-Event-ID over real HTTP/SSE. Reported: the time to the hand-over (the
 * last event of the gap received, then a live message next), the server's CPU for it, and the
 * store's read of each page in this process, with the query plans.
 *
 * Usage: bun run build && bun scripts/resume-gap.ts [--gaps 2500,25000,100000] [--rooms 50]
 *        [--binary dist/chat-server] [--keep (the databases)]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { Database } from 'bun:sqlite'

const { values: args } = parseArgs({
  options: {
    gaps: { type: 'string', default: '2500,25000,100000' },
    rooms: { type: 'string', default: '50' },
    binary: { type: 'string', default: 'dist/chat-server' },
    keep: { type: 'boolean', default: false },
  },
})
process.env.CHAT_SERVER_BIN = resolve(args.binary)
const { spawnServer } = await import('../test/support/server-process')
const { openDatabase, createSqliteStore } = await import('../src/store/sqlite')

// Every statement the store prepares, to show the plans of the replay's reads.
const prepared = new Set<string>()
const query = Database.prototype.query
Database.prototype.query = function (this: Database, sql: string) {
  prepared.add(sql)
  return query.call(this, sql)
} as typeof query
let planned = false

const ROOMS = Number(args.rooms)
const PAGE = 500
const HZ = 100

type User = { id: number; token: string }

async function api<T>(url: string, path: string, body: unknown, token?: string): Promise<T> {
  const res = await fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  })
  if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`)
  return (await res.json()) as T
}

const register = async (url: string, username: string): Promise<User> => {
  const { user, token } = await api<{ user: { id: number }; token: string }>(url, '/api/auth/register', { username, password: 'resume-gap-password' })
  return { id: user.id, token }
}

/** utime + stime of a process, in ms. */
const cpuMs = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / HZ
}

/**
 * The gap, written around the server as an import would: messages in the reader's rooms and in
 * as many others, 1 in 50 events an edit of an earlier message of the gap, 1 in 200 a deletion
 * (its row goes, its updates are then left out of any replay). Returns the ids the reader's
 * stream must replay, in order, read back with plain SQL independent of the store's queries.
 */
function seedGap(path: string, after: number, gap: number, readerRooms: number[], otherRooms: number[], senderId: number, readerId: number): number[] {
  const db = openDatabase(path)
  const rooms = [...readerRooms, ...otherRooms]
  const now = Date.now()
  const message = db.query(`INSERT INTO messages (id, room_id, sender_id, content, message_type, created_at) VALUES (?, ?, ?, ?, 'MESSAGE', ?)`)
  const edit = db.query(`UPDATE messages SET content = ?, edited_at = ? WHERE id = ?`)
  const remove = db.query(`DELETE FROM messages WHERE id = ?`)
  const event = db.query(`INSERT INTO message_events (id, room_id, message_id, kind, created_at) VALUES (?, ?, ?, ?, ?)`)
  let seed = 42
  const random = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n)
  const posted: { id: number; roomId: number }[] = []
  db.transaction(() => {
    // The reader's rooms see `gap` events; the others about as many again.
    for (let id = after + 1, own = 0; own < gap; id++) {
      const roomId = rooms[random(rooms.length)]!
      const mine = readerRooms.includes(roomId)
      if (mine) own++
      const target = posted.length > 0 ? posted[random(posted.length)]! : null
      if (target && id % 50 === 0) {
        edit.run(`edited at ${id}`, now, target.id)
        event.run(id, target.roomId, target.id, 'updated', now)
      } else if (target && id % 200 === 1) {
        remove.run(target.id)
        event.run(id, target.roomId, target.id, 'deleted', now)
      } else {
        message.run(id, roomId, senderId, `message ${id} of the gap, long enough to look like a line of chat`, now)
        posted.push({ id, roomId })
      }
    }
  })()
  const ids = db
    .query<{ id: number }, [number]>(
      `SELECT m.id FROM messages m JOIN participants p ON p.room_id = m.room_id AND p.user_id = ?1 WHERE m.id > ${after}
       UNION ALL
       SELECT e.id FROM message_events e JOIN participants p ON p.room_id = e.room_id AND p.user_id = ?1
       WHERE e.id > ${after} AND (e.kind = 'deleted' OR EXISTS (SELECT 1 FROM messages m WHERE m.id = e.message_id))
       ORDER BY 1`,
    )
    .all(readerId)
    .map((row) => row.id)
  db.close()
  return ids
}

/** The event ids of an SSE response, read as they arrive (a lean parser: the client must not be what is measured). */
function eventIds(response: Response) {
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  let tail = ''
  return {
    /** Reads until the event `last` arrived; returns the ids read, with when the first and the last came. */
    async until(last: number, since: number) {
      const ids: number[] = []
      let firstAt = 0
      for (;;) {
        const { value, done } = await reader.read()
        if (done) throw new Error('the stream ended')
        const lines = (tail + decoder.decode(value, { stream: true })).split('\n')
        tail = lines.pop()!
        for (const line of lines) {
          if (!line.startsWith('id: ')) continue
          const id = Number(line.slice(4))
          if (ids.length === 0) firstAt = performance.now() - since
          ids.push(id)
          if (id >= last) return { ids, firstAt, lastAt: performance.now() - since }
        }
      }
    },
    close: () => reader.cancel(),
  }
}

async function run(gap: number) {
  const dir = mkdtempSync(join(tmpdir(), 'resume-gap-'))
  const dbPath = join(dir, 'chat.db')
  const env = { RATE_LIMIT_MESSAGES_PER_MINUTE: '0', RATE_LIMIT_AUTH_PER_MINUTE: '0', LOG_LEVEL: 'warn' }
  // First the accounts and rooms through the API, then the gap written into the file.
  let server = await spawnServer({ dbPath, env })
  const readerRooms: number[] = []
  const otherRooms: number[] = []
  let sender: User, reader: User, seen: { id: number }
  try {
    sender = await register(server.url, 'sender')
    reader = await register(server.url, 'reader')
    for (let i = 0; i < 2 * ROOMS; i++) {
      const mine = i < ROOMS
      const room = await api<{ id: number }>(server.url, '/api/chat/rooms', { name: `room ${i}`, participantIds: mine ? [reader.id] : [] }, sender.token)
      ;(mine ? readerRooms : otherRooms).push(room.id)
    }
    seen = await api<{ id: number }>(server.url, `/api/chat/rooms/${readerRooms[0]}/messages`, { content: 'the last one the reader saw' }, sender.token)
  } finally {
    await server.stop()
  }

  const expected = seedGap(dbPath, seen.id, gap, readerRooms, otherRooms, sender.id, reader.id)
  server = await spawnServer({ dbPath, env })
  const pid = server.proc.pid
  try {
    const cpuBefore = cpuMs(pid)
    const startedAt = performance.now()
    const response = await fetch(`${server.url}/api/chat/stream`, {
      headers: { authorization: `Bearer ${reader.token}`, accept: 'text/event-stream', 'last-event-id': String(seen.id) },
    })
    if (response.status !== 200) throw new Error(`stream: ${response.status}`)
    const stream = eventIds(response)
    const { ids, firstAt, lastAt } = await stream.until(expected.at(-1)!, startedAt)
    const cpu = cpuMs(pid) - cpuBefore
    const same = ids.length === expected.length && ids.every((id, i) => id === expected[i])
    // The hand-over: the next event on the stream is a message posted now.
    const live = await api<{ id: number }>(server.url, `/api/chat/rooms/${readerRooms[1]}/messages`, { content: 'live' }, sender.token)
    const next = await stream.until(live.id, startedAt)
    await stream.close()
    const handedOver = next.ids.length === 1 && next.ids[0] === live.id
    console.log(
      `gap ${gap.toLocaleString('en')} (${expected.length.toLocaleString('en')} events for the reader): first event ${firstAt.toFixed(0)} ms, ` +
        `hand-over ${lastAt.toFixed(0)} ms, server CPU ${cpu.toFixed(0)} ms; replay ${same ? 'exact' : 'WRONG'}, live next ${handedOver ? 'yes' : 'NO'}`,
    )
  } finally {
    await server.stop()
  }
  await pages(dbPath, reader.id, seen.id)
  if (args.keep) console.log(`  kept ${dbPath} (reader ${reader.id}, gap after ${seen.id})`)
  else rmSync(dir, { recursive: true, force: true })
}

/** The store's read of each page of the replay, in this process, with the server stopped; then the plans of its reads. */
async function pages(dbPath: string, userId: number, from: number) {
  const store = createSqliteStore(dbPath)
  const times: number[] = []
  const cpu: number[] = []
  for (let after = from; ; ) {
    const t0 = performance.now()
    const c0 = process.cpuUsage()
    const events = await store.userEventsAfter(userId, after, PAGE)
    const used = process.cpuUsage(c0)
    cpu.push((used.user + used.system) / 1000)
    times.push(performance.now() - t0)
    if (events.length < PAGE) break
    after = events.at(-1)!.id
  }
  store.close()
  const sorted = [...times].sort((a, b) => a - b)
  const ms = (x: number) => `${x.toFixed(2)} ms`
  console.log(
    `  store: ${times.length} pages, first ${ms(times[0]!)}, median ${ms(sorted[sorted.length >> 1]!)}, ` +
      `last ${ms(times.at(-1)!)}, total ${ms(times.reduce((a, b) => a + b, 0))} (CPU ${ms(cpu.reduce((a, b) => a + b, 0))})`,
  )
  if (planned) return
  planned = true
  const db = new Database(dbPath, { readonly: true, strict: true })
  for (const sql of [...prepared]) {
    if (!/user_id = \?3/.test(sql) || !sql.includes('LIMIT ?4')) continue
    console.log(`  plan of: ${sql.replace(/\s+/g, ' ').slice(0, 160)}...`)
    const plan = db.query<{ detail: string }, [number, number, number, number]>(`EXPLAIN QUERY PLAN ${sql}`).all(from, from + 1, userId, PAGE)
    for (const row of plan) console.log(`    ${row.detail}`)
  }
  db.close()
}

for (const gap of args.gaps.split(',').map(Number)) await run(gap)
