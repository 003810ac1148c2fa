/**
 * Every answer is the contract's JSON, whatever the request: bodies over the limit at any size
 * (over raw sockets, since fetch cannot send a lying Content-Length), unknown routes, wrong
 * methods, HEAD and OPTIONS.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import type { Socket } from 'bun'
import { call, createRoom, newUsers, startServer, type TestServer, type TestUser } from './helpers'
import { rawExchange, type RawReply } from './support/raw-http'
import { SERVER_BINARY } from './support/server-process'

let server: TestServer
let port: number
let alice: TestUser
let roomId: number
beforeAll(async () => {
  server = await startServer()
  port = Number(new URL(server.url).port)
  ;[alice] = await newUsers(server.url, 1, 'contract')
  roomId = (await createRoom(server.url, alice, { name: 'contract', visibility: 'public' })).id
})
afterAll(() => server.stop())

interface SentReply extends RawReply {
  /** Body bytes the client had written when the server closed the connection. */
  sent: number
}

/**
 * Writes `head`, then body bytes as fast as the socket takes them (chunk-framed when `chunked`)
 * until `bodyBytes` are out or the server closes the connection; resolves when it is closed.
 */
function rawRequest(head: string, bodyBytes: number, chunked = false): Promise<SentReply> {
  const chunk = Buffer.alloc(64 * 1024, 'x')
  const frame = chunked ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n')]) : chunk
  let sent = 0
  let pending: Buffer | null = null
  let ended = false
  const pump = (socket: Socket, closed: () => boolean) => {
    while (!closed() && sent < bodyBytes) {
      const buffer = pending ?? frame
      const written = socket.write(buffer)
      if (written < 0) return
      if (written < buffer.length) return void (pending = buffer.subarray(written))
      pending = null
      sent += chunk.length
    }
    if (chunked && !closed() && !ended) {
      ended = true
      socket.write('0\r\n\r\n')
    }
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not close the connection (${sent} body bytes sent)`)), 5000)
    rawExchange(port, head, { open: pump, drain: pump }).then((reply) => {
      clearTimeout(timer)
      resolve({ ...reply, sent })
    }, reject)
  })
}

const MB = 1024 * 1024
const postHead = (path: string, framing: string) =>
  `POST ${path} HTTP/1.1\r\nhost: test\r\nauthorization: Bearer ${alice.token}\r\ncontent-type: application/json\r\n${framing}\r\n`

function expectJson413(reply: RawReply) {
  expect(reply.status).toBe(413)
  expect(reply.headers['content-type']).toContain('application/json')
  expect(reply.headers['connection']).toBe('close')
  expect(JSON.parse(reply.body)).toEqual({ error: { code: 'payload_too_large', message: expect.stringMatching(/^request body: at most \d+ bytes$/) } })
}

describe('bodies over the limit', () => {
  it('a declared length over the limit, body sent in full: JSON 413, connection closed', async () => {
    expectJson413(await rawRequest(postHead('/api/chat/rooms', `content-length: ${2 * MB}\r\n`), 2 * MB))
  })

  it('a declared 2 GB body: JSON 413 before the body is read (the client could send only a few MB)', async () => {
    const reply = await rawRequest(postHead(`/api/chat/rooms/${roomId}/messages`, `content-length: ${2 * 1024 * MB}\r\n`), 64 * MB)
    expectJson413(reply)
    expect(reply.sent).toBeLessThan(64 * MB)
  })

  it('a chunked body without Content-Length: JSON 413 once the limit is passed, connection closed', async () => {
    expectJson413(await rawRequest(postHead(`/api/chat/rooms/${roomId}/messages`, 'transfer-encoding: chunked\r\n'), 2 * MB, true))
  })

  it('an endless chunked body: JSON 413 without reading the rest', async () => {
    const reply = await rawRequest(postHead(`/api/chat/rooms/${roomId}/messages`, 'transfer-encoding: chunked\r\n'), 64 * MB, true)
    expectJson413(reply)
    expect(reply.sent).toBeLessThan(64 * MB)
  })

  it('a declared length over the limit on an unknown route or a body-less route: JSON 413', async () => {
    expectJson413(await rawRequest(postHead('/no/such/route', `content-length: ${10 * MB}\r\n`), 0))
    expectJson413(await rawRequest(postHead(`/api/chat/rooms/${roomId}/typing`, `content-length: ${10 * MB}\r\n`), 0))
  })

  it('a body within the limit still works, and the server serves after all of it', async () => {
    const reply = await call(server.url, `/api/chat/rooms/${roomId}/messages`, { token: alice.token, body: { content: 'still here', clientMessageId: 'x'.repeat(64) } })
    expect(reply.status).toBe(201)
    expect((await call(server.url, '/healthz')).status).toBe(200)
  })
})

describe('requests no route takes', () => {
  const auth = () => ({ authorization: `Bearer ${alice.token}` })

  it('an unknown route: 404 not_found JSON', async () => {
    for (const method of ['GET', 'POST', 'DELETE']) {
      const reply = await call(server.url, '/api/chat/nothing/here', { method, headers: auth() })
      expect(reply.status).toBe(404)
      expect(reply.headers.get('content-type')).toContain('application/json')
      expect(reply.body).toEqual({ error: { code: 'not_found', message: 'no such route' } })
    }
  })

  it('a method the path does not take: 404 not_found JSON naming the route, with Allow', async () => {
    const reply = await call(server.url, `/api/chat/rooms/${roomId}`, { method: 'PATCH', headers: auth() })
    expect(reply.status).toBe(404)
    expect(reply.headers.get('content-type')).toContain('application/json')
    expect(reply.body.error.code).toBe('not_found')
    expect(reply.body.error.message).toBe('no such route: PATCH /api/chat/rooms/{roomId}; this path takes GET, HEAD, DELETE, OPTIONS')
    expect(reply.headers.get('allow')).toBe('GET, HEAD, DELETE, OPTIONS')
    const put = await call(server.url, '/healthz', { method: 'PUT' })
    expect(put.status).toBe(404)
    expect(put.headers.get('allow')).toBe('GET, HEAD, OPTIONS')
  })

  it('OPTIONS on a known path: 204 with Allow and no CORS grant; on an unknown path: 404 JSON', async () => {
    const known = await fetch(`${server.url}/api/chat/rooms`, { method: 'OPTIONS', headers: { origin: 'https://elsewhere.example' } })
    expect(known.status).toBe(204)
    expect(known.headers.get('allow')).toBe('GET, HEAD, POST, OPTIONS')
    expect(known.headers.get('access-control-allow-origin')).toBeNull()
    const unknown = await call(server.url, '/api/chat/nothing', { method: 'OPTIONS' })
    expect(unknown.status).toBe(404)
    expect(unknown.body.error.code).toBe('not_found')
  })

  it('HEAD answers like GET without a body', async () => {
    const head = await fetch(`${server.url}/api/chat/rooms/${roomId}`, { method: 'HEAD', headers: auth() })
    expect(head.status).toBe(200)
    expect(head.headers.get('content-type')).toContain('application/json')
    expect(await head.text()).toBe('')
    const anonymous = await fetch(`${server.url}/api/chat/rooms/${roomId}`, { method: 'HEAD' })
    expect(anonymous.status).toBe(401)
    const unknown = await fetch(`${server.url}/api/chat/nothing`, { method: 'HEAD' })
    expect(unknown.status).toBe(404)
    expect(unknown.headers.get('content-type')).toContain('application/json')
  })

  it('HEAD of an event stream opens nothing: 404 with Allow: GET', async () => {
    const [bob] = await newUsers(server.url, 1, 'header')
    for (const path of ['/api/chat/stream', `/api/chat/rooms/${roomId}/subscribe`]) {
      const head = await fetch(server.url + path, { method: 'HEAD', headers: { authorization: `Bearer ${bob!.token}` } })
      expect(head.status).toBe(404)
      expect(head.headers.get('content-type')).toContain('application/json')
      expect(head.headers.get('allow')).toBe('GET, OPTIONS')
    }
    // A GET of the room stream would have joined this public room.
    const room = await call(server.url, `/api/chat/rooms/${roomId}`, { token: bob!.token })
    expect(room.body.participants.map((p: { id: number }) => p.id)).not.toContain(bob!.id)
  })
})

interface Parameter {
  in: 'path' | 'query' | 'header'
  name: string
  required?: boolean
  schema?: { type?: string; anyOf?: { type?: string; minimum?: number }[] }
}
interface Operation {
  method: string
  path: string
  parameters: Parameter[]
  body?: { required?: string[]; properties?: Record<string, { type?: string; anyOf?: { type?: string }[]; items?: { anyOf?: { type?: string }[] } }> }
}

async function operations(): Promise<Operation[]> {
  const spec = (await call(server.url, '/swagger/json')).body
  return Object.entries<Record<string, any>>(spec.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]) => ({
      method: method.toUpperCase(),
      path,
      parameters: op.parameters ?? [],
      body: op.requestBody?.content?.['application/json']?.schema,
    })),
  )
}

const integerMinimum = (schema: Parameter['schema']) => schema?.anyOf?.find((s) => s.type === 'integer')?.minimum
const takesInteger = (schema: { type?: string; anyOf?: { type?: string }[] } | undefined) =>
  schema?.type === 'integer' || (schema?.anyOf?.some((s) => s.type === 'integer') ?? false)

describe('validation messages name the field', () => {
  let messageId: number
  beforeAll(async () => {
    messageId = (await call(server.url, `/api/chat/rooms/${roomId}/messages`, { token: alice.token, body: { content: 'named' } })).body.id
  })

  /** The operation's path with every parameter valid, except `bad` set to `value`. */
  function pathOf(op: Operation, bad?: string, value?: string) {
    const valid: Record<string, string> = { roomId: String(roomId), messageId: String(messageId), userId: String(alice.id), emoji: 'ok' }
    return op.path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(name === bad ? value! : (valid[name] ?? '1')))
  }

  async function expectNamed(method: string, path: string, message: string | RegExp, body?: unknown) {
    const reply = await call(server.url, path, { method, token: alice.token, body })
    expect({ path, status: reply.status }).toEqual({ path, status: 400 })
    expect(reply.body.error.code).toBe('validation_failed')
    if (typeof message === 'string') expect(reply.body.error.message).toBe(message)
    else expect(reply.body.error.message).toMatch(message)
  }

  it('every integer path parameter: out of range, not digits, past 2^53', async () => {
    let checked = 0
    for (const op of await operations()) {
      for (const p of op.parameters.filter((p) => p.in === 'path' && takesInteger(p.schema))) {
        const min = integerMinimum(p.schema) ?? 0
        await expectNamed(op.method, pathOf(op, p.name, String(min - 1)), `${p.name}: must be an integer >= ${min}`, op.body ? {} : undefined)
        await expectNamed(op.method, pathOf(op, p.name, '12abc'), `${p.name}: must be an integer`, op.body ? {} : undefined)
        await expectNamed(op.method, pathOf(op, p.name, '99999999999999999999'), `${p.name}: must be an integer <= ${Number.MAX_SAFE_INTEGER}`, op.body ? {} : undefined)
        checked++
      }
    }
    expect(checked).toBeGreaterThan(15)
  })

  it('every integer query parameter: negative, zero where ids start at 1, not digits', async () => {
    // Valid values for the other required query parameters (search's q), so only `p` is wrong.
    const validQuery: Record<string, string> = { q: 'named' }
    let checked = 0
    for (const op of await operations()) {
      for (const p of op.parameters.filter((p) => p.in === 'query' && takesInteger(p.schema))) {
        const min = integerMinimum(p.schema) ?? 0
        const others = op.parameters
          .filter((o) => o.in === 'query' && o.required && o.name !== p.name)
          .map((o) => `${o.name}=${encodeURIComponent(validQuery[o.name] ?? '1')}&`)
          .join('')
        const bad = (value: string) => `${pathOf(op)}?${others}${p.name}=${value}`
        await expectNamed(op.method, bad('-1'), `${p.name}: must be an integer >= ${min}`)
        if (min > 0) await expectNamed(op.method, bad('0'), `${p.name}: must be an integer >= ${min}`)
        await expectNamed(op.method, bad('1e3'), `${p.name}: must be an integer`)
        checked++
      }
    }
    expect(checked).toBeGreaterThan(5)
  })

  it('every JSON body: a missing required field, an integer sent as text, a body that is not an object', async () => {
    let checked = 0
    for (const op of (await operations()).filter((op) => op.body)) {
      const required = op.body!.required ?? []
      if (required.length > 0) await expectNamed(op.method, pathOf(op), new RegExp(`^(${required.join('|')}): is required$`), {})
      for (const [name, schema] of Object.entries(op.body!.properties ?? {})) {
        if (takesInteger(schema)) await expectNamed(op.method, pathOf(op), `${name}: must be an integer`, { [name]: '1' })
        if (takesInteger(schema.items)) await expectNamed(op.method, pathOf(op), `${name}.0: must be an integer`, { [name]: ['1'] })
      }
      await expectNamed(op.method, pathOf(op), 'request body: must be a JSON object', [1])
      checked++
    }
    expect(checked).toBeGreaterThan(5)
  })

  it.each([
    ['GET', 'ROOM/messages?limit=-1', 'limit: must be an integer >= 1'],
    ['GET', 'ROOM/messages?limit=0', 'limit: must be an integer >= 1'],
    ['GET', 'ROOM/messages?afterId=-5', 'afterId: must be an integer >= 0'],
    ['GET', 'ROOM/messages?afterId=9007199254740992', 'afterId: must be an integer <= 9007199254740991'],
    ['GET', 'ROOM/messages?lastMessageId=0', 'lastMessageId: must be an integer >= 1'],
    ['GET', 'ROOM/messages?limit=0x10', 'limit: must be an integer'],
    ['POST', 'ROOM/messages {"content":5}', 'content: must be a string'],
    ['POST', 'ROOM/messages {"content":"x","extra":1}', 'extra: is not a known field'],
    ['POST', 'ROOM/messages {"content":"x","messageType":"JOIN"}', 'messageType: must be MESSAGE'],
    ['POST', 'ROOM/messages {"content":"x","clientMessageId":""}', 'clientMessageId: at least 1 character'],
    ['POST', 'ROOM/read {"messageId":-1}', 'messageId: must be an integer >= 0'],
    ['POST', ' {"name":"x","visibility":"secret"}', 'visibility: must be one of public, private'],
    ['POST', ' {"name":"x","participantIds":[0]}', 'participantIds.0: must be an integer >= 1'],
  ])('%s %s -> %s', async (method, target, message) => {
    const [path = '', body] = target.split(' ')
    await expectNamed(method, `/api/chat/rooms${path ? '/' : ''}${path.replace('ROOM', String(roomId))}`, message, body ? JSON.parse(body) : undefined)
  })

  it('names the field in the users search too', async () => {
    await expectNamed('GET', '/api/chat/users?limit=-1', 'limit: must be an integer >= 1')
    await expectNamed('GET', `/api/chat/users?q=${'x'.repeat(65)}`, 'q: at most 64 characters')
  })
})

describe('paging bounds', () => {
  let pagingRoom: number
  beforeAll(async () => {
    pagingRoom = (await createRoom(server.url, alice, { name: 'paging' })).id
    for (let i = 0; i < 205; i++) await call(server.url, `/api/chat/rooms/${pagingRoom}/messages`, { token: alice.token, body: { content: `m${i}` } })
  })

  it('a huge limit is clamped to the maximum, never "no limit"', async () => {
    for (const limit of ['201', '99999999999999999999']) {
      const reply = await call(server.url, `/api/chat/rooms/${pagingRoom}/messages?limit=${limit}`, { token: alice.token })
      expect(reply.status).toBe(200)
      expect(reply.body).toHaveLength(200)
    }
    expect((await call(server.url, `/api/chat/rooms/${pagingRoom}/messages`, { token: alice.token })).body).toHaveLength(50)
  })

  it('a cursor past every id is an empty page, not an error', async () => {
    const reply = await call(server.url, `/api/chat/rooms/${pagingRoom}/messages?afterId=${Number.MAX_SAFE_INTEGER}`, { token: alice.token })
    expect(reply.status).toBe(200)
    expect(reply.body).toEqual([])
  })

  // The services' own bounds, for a build whose validators let anything through: asked of the
  // services directly, so this runs in-process only.
  it.skipIf(SERVER_BINARY !== undefined)('services clamp limits and refuse bad cursors whatever reaches them', async () => {
    const { messages, users } = server.deps!
    const history = (query: Record<string, unknown>) => messages.history(pagingRoom, alice.id, query as { limit?: number })
    expect(await history({ limit: -1 })).toHaveLength(1)
    expect(await history({ limit: 0 })).toHaveLength(1)
    expect(await history({ limit: 10_000 })).toHaveLength(200)
    expect(await history({ limit: '7' })).toHaveLength(7)
    await expect(history({ afterId: -5 })).rejects.toThrow('afterId: must be an integer >= 0')
    await expect(history({ lastMessageId: 0 })).rejects.toThrow('lastMessageId: must be an integer >= 1')
    await expect(history({ afterId: 1.5 })).rejects.toThrow('afterId: must be an integer')
    await expect(history({ limit: 'all' })).rejects.toThrow('limit: must be an integer')
    await expect(messages.markRead(pagingRoom, alice.id, -1)).rejects.toThrow('messageId: must be an integer >= 0')
    expect(await users.list({ limit: -1 })).toHaveLength(1)
  })
})
