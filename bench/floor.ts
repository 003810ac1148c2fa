/**
 * The floor: the least a server on our stack (Bun.serve + bun:sqlite) can do for the bench's
 * scenarios. One insert per POST, a Set of subscribers per room, the events of one event-loop
 * turn encoded once and written to each as one chunk; no framework, no auth, no validation,
 * no limits. Same paths and event format as ours, so the load generator drives both alike and
 * ours/floor is what our framework and features cost.
 *
 * Why coalesce: writing each event on its own costs one syscall per subscriber per message;
 * under load our server batches what a turn brings, and a floor that did not would stop being
 * a floor (at 1,000 subscribers x 200 messages/s ours spent half its CPU per delivery).
 */
import { Database } from 'bun:sqlite'
import { FLOOR_PRAGMAS, FLOOR_QUERIES, FLOOR_SCHEMA } from './floor-schema'

const db = new Database(process.env.DATABASE_PATH ?? ':memory:', { create: true })
db.exec(FLOOR_PRAGMAS)
db.exec(FLOOR_SCHEMA)
const insert = db.query<never, [number, number, string, number]>(FLOOR_QUERIES.insert)
const pages = {
  newest: db.query(FLOOR_QUERIES.newest),
  before: db.query(FLOOR_QUERIES.before),
  after: db.query(FLOOR_QUERIES.after),
}
const roomList = db.query(FLOOR_QUERIES.rooms)
const rooms = new Map<number, Set<ReadableStreamDirectController>>()
/** Per room, the events of this event-loop turn not yet written. */
const pending = new Map<number, string>()
const encoder = new TextEncoder()
const RETRY = encoder.encode('retry: 3000\n\n')
const SSE_HEADERS = { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' }

function subscribe(req: Request, roomId: number): Response {
  const subscribers = rooms.get(roomId) ?? rooms.set(roomId, new Set()).get(roomId)!
  const source: Bun.DirectUnderlyingSource = {
    type: 'direct',
    async pull(controller) {
      controller.write(RETRY)
      controller.flush()
      subscribers.add(controller)
      await new Promise(resolve => req.signal.addEventListener('abort', resolve, { once: true }))
      subscribers.delete(controller)
    },
  }
  // A direct stream writes straight to the socket (the fastest SSE in STACK-NOTES); the DOM
  // typings the project loads for its web client do not know Bun's `type: 'direct'`.
  const body = new ReadableStream(source as unknown as UnderlyingDefaultSource)
  return new Response(body, { headers: SSE_HEADERS })
}

async function post(req: Request, roomId: number): Promise<Response> {
  const { content } = (await req.json()) as { content: string }
  const createdAt = Date.now()
  // run(), not a RETURNING .get(): that steps once and leaves the autocommit open until the next insert.
  const id = Number(insert.run(roomId, 0, content, createdAt).lastInsertRowid)
  const json = JSON.stringify({
    id, roomId, senderId: 0, content, messageType: 'MESSAGE',
    createdAt: new Date(createdAt).toISOString(), clientMessageId: null,
  })
  const queued = pending.get(roomId)
  pending.set(roomId, `${queued ?? ''}event: message\nid: ${id}\ndata: ${json}\n\n`)
  if (queued === undefined) setImmediate(flush, roomId)
  return new Response(json, { status: 201, headers: { 'Content-Type': 'application/json' } })
}

function flush(roomId: number): void {
  const events = encoder.encode(pending.get(roomId))
  pending.delete(roomId)
  for (const subscriber of rooms.get(roomId) ?? []) {
    subscriber.write(events)
    subscriber.flush()
  }
}

function history(url: URL, roomId: number): Response {
  const limit = Number(url.searchParams.get('limit') ?? 50)
  const before = url.searchParams.get('lastMessageId')
  const after = url.searchParams.get('afterId')
  if (after) return Response.json(pages.after.all(roomId, Number(after), limit))
  const page = before ? pages.before.all(roomId, Number(before), limit) : pages.newest.all(roomId, limit)
  return Response.json(page.reverse())
}

const server = Bun.serve({
  hostname: process.env.HOST ?? '127.0.0.1',
  port: Number(process.env.PORT ?? 0),
  idleTimeout: 0, // streams stay open however quiet; the floor sends no pings
  routes: {
    '/healthz': new Response('ok'),
    '/api/chat/rooms': req => Response.json(roomList.all(Number(new URL(req.url).searchParams.get('userId')))),
    '/api/chat/rooms/:id/subscribe': req => subscribe(req, Number(req.params.id)),
    '/api/chat/rooms/:id/messages': {
      GET: req => history(new URL(req.url), Number(req.params.id)),
      POST: req => post(req, Number(req.params.id)),
    },
  },
  fetch: () => new Response('not found', { status: 404 }),
})
console.log(`listening on http://${server.hostname}:${server.port}`)

for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    server.stop(true)
    db.close()
    process.exit(0)
  })
}
