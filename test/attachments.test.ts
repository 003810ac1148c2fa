/**
 * Files through HTTP (API.md, Files): uploads streamed to disk, their limits, what is left on
 * disk (nothing, when an upload fails or goes away), names, who may read a file, Range and
 * ETag, posting with attachmentIds, deletion and the orphan sweep. Raw sockets for the bodies a
 * client lies about, sends chunked, or abandons. Everything over HTTP, so it runs against the
 * binary too; the sweep test ages an upload in the database, as a day passing would.
 */
import type { Socket } from 'bun'
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { existsSync, mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { call, createRoom, eventually, newUser, newUsers, openStream, startServer, within, type TestServer, type TestUser } from './helpers'
import { onDatabase } from './support/accounts'
import { rawExchange, type RawReply } from './support/raw-http'

const LIMIT = 256 * 1024

let server: TestServer
let url: string
let alice: TestUser
let bob: TestUser
let carol: TestUser

beforeAll(async () => {
  server = await startServer({ maxUploadBytes: LIMIT })
  url = server.url
  ;[alice, bob, carol] = await newUsers(url, 3, 'files')
})
afterAll(() => server?.stop())

const filesRoot = (s: TestServer = server) => join(dirname(s.config.databasePath), 'files')

/** Every file under FILES_PATH, incoming ones included, as paths relative to it. */
function filesOnDisk(s: TestServer = server): string[] {
  const root = filesRoot(s)
  if (!existsSync(root)) return []
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(root.length + 1))
    .sort()
}
const incoming = () => filesOnDisk().filter((p) => p.startsWith('incoming'))

async function upload(user: TestUser, roomId: number, bytes: BlobPart, name = 'notes.txt', type = 'text/plain', base = url) {
  const form = new FormData()
  form.append('file', new File([bytes], name, { type }))
  const res = await fetch(`${base}/api/chat/rooms/${roomId}/attachments`, { method: 'POST', headers: { authorization: `Bearer ${user.token}` }, body: form })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : undefined, headers: res.headers }
}

async function uploaded(user: TestUser, roomId: number, bytes: BlobPart, name?: string, type?: string) {
  const res = await upload(user, roomId, bytes, name, type)
  if (res.status !== 201) throw new Error(`upload: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body as { id: number; name: string; url: string; size: number; contentType: string; width: number | null; height: number | null }
}

const download = (path: string, token: string | undefined, headers: Record<string, string> = {}) =>
  fetch(url + path, { headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers } })

const postFiles = (user: TestUser, roomId: number, body: Record<string, unknown>) => call(url, `/api/chat/rooms/${roomId}/messages`, { token: user.token, body })

/** A multipart body with one file part; the name goes into the header byte for byte. */
function multipart(name: string, content: Uint8Array, type = 'application/octet-stream') {
  const boundary = `----chat${crypto.randomUUID()}`
  const head = Buffer.from(`--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${name}"\r\ncontent-type: ${type}\r\n\r\n`)
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`)
  return { type: `multipart/form-data; boundary=${boundary}`, head, tail, body: Buffer.concat([head, content, tail]) }
}

/**
 * One request over a raw socket: `head`, then whatever `send` writes (it may keep writing until
 * the server closes); resolves with the answer once the server closes the connection.
 */
const raw = (head: string, send: (socket: Socket, closed: () => boolean) => void | Promise<void>): Promise<RawReply> =>
  within(rawExchange(Number(new URL(url).port), head, { open: send }), 10_000, 'the server did not answer and close')

const uploadHead = (roomId: number, token: string, type: string, framing: string) =>
  `POST /api/chat/rooms/${roomId}/attachments HTTP/1.1\r\nhost: test\r\nauthorization: Bearer ${token}\r\ncontent-type: ${type}\r\n${framing}\r\n`

/** Writes `bytes` and then zeros in 16 KiB chunks (chunk-framed when asked) until the socket closes or `max` went out. */
async function pour(socket: Socket, closed: () => boolean, first: Buffer, max: number, chunked: boolean) {
  const frame = (b: Buffer) => (chunked ? Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]) : b)
  const zeros = frame(Buffer.alloc(16 * 1024))
  let pending = frame(first)
  for (let sent = 0; sent < max && !closed(); ) {
    // A write may take part of the buffer: the rest goes next, or the framing breaks.
    const n = Math.max(0, socket.write(pending))
    sent += n
    pending = n < pending.length ? pending.subarray(n) : zeros
    if (n === 0) await Bun.sleep(1)
  }
}

function expect413(reply: RawReply) {
  expect(reply.status).toBe(413)
  expect(reply.headers['content-type']).toContain('application/json')
  expect(JSON.parse(reply.body).error.code).toBe('payload_too_large')
}

describe('uploading', () => {
  it('answers 201 with the Attachment, and the bytes come back exactly', async () => {
    const room = await createRoom(url, alice)
    const bytes = crypto.getRandomValues(new Uint8Array(100_000))
    const file = await uploaded(alice, room.id, bytes, 'data.bin', 'application/x-thing')
    expect(file).toEqual({ id: expect.any(Number), name: 'data.bin', contentType: 'application/x-thing', size: 100_000, url: `/api/chat/attachments/${file.id}/data.bin`, width: null, height: null })
    const res = await download(file.url, alice.token)
    expect(res.status).toBe(200)
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(bytes)
    expect(res.headers.get('content-type')).toBe('application/octet-stream')
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="data.bin"; filename*=UTF-8''data.bin`)
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('content-security-policy')).toBe("sandbox; default-src 'none'")
  })

  it('a file exactly at MAX_UPLOAD_BYTES is taken', async () => {
    const room = await createRoom(url, alice)
    expect((await uploaded(alice, room.id, new Uint8Array(LIMIT))).size).toBe(LIMIT)
  })

  it('takes images with their pixel size, whatever type they were sent as', async () => {
    const room = await createRoom(url, alice)
    // A 3x2 PNG: signature and IHDR (enough for its size; the rest of a real file follows it).
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 3, 0, 0, 0, 2, 8, 6, 0, 0, 0, 0, 0, 0, 0])
    const file = await uploaded(alice, room.id, png, 'shot.png', 'application/octet-stream')
    expect(file).toMatchObject({ contentType: 'image/png', width: 3, height: 2 })
    const res = await download(file.url, alice.token)
    expect(res.headers.get('content-type')).toBe('image/png')
    expect(res.headers.get('content-disposition')).toStartWith('inline;')
  })

  it('serves text/plain with a charset, as a download', async () => {
    const room = await createRoom(url, alice)
    const file = await uploaded(alice, room.id, 'hello', 'a.txt', 'text/plain')
    const res = await download(file.url, alice.token)
    expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8')
    expect(res.headers.get('content-disposition')).toStartWith('attachment;')
  })

  it('refuses what is not multipart (415), a body without a file part (400), and non-participants (403 public, 404 private)', async () => {
    const room = await createRoom(url, alice, { visibility: 'public' })
    const hidden = await createRoom(url, alice)
    const path = `/api/chat/rooms/${room.id}/attachments`
    expect((await call(url, path, { token: alice.token, body: { file: 'x' } })).status).toBe(415)
    const form = new FormData()
    form.append('other', 'value')
    const res = await fetch(url + path, { method: 'POST', headers: { authorization: `Bearer ${alice.token}` }, body: form })
    expect(res.status).toBe(400)
    expect((await res.json()).error.message).toBe('file: is required')
    expect((await upload(bob, room.id, 'x')).status).toBe(403)
    const outsider = await upload(bob, hidden.id, 'x')
    expect(outsider.status).toBe(404)
    expect(outsider.body).toEqual((await upload(bob, 999_999, 'x')).body)
  })
})

describe('limits and failures leave nothing on disk', () => {
  it('a declared Content-Length over the limit: 413 JSON before the body is read', async () => {
    const room = await createRoom(url, alice)
    const before = filesOnDisk()
    const form = multipart('big.bin', new Uint8Array(0))
    // Headers only: the answer must come without a byte of the body.
    const reply = await raw(uploadHead(room.id, alice.token, form.type, `content-length: ${LIMIT * 4}\r\n`), () => {})
    expect413(reply)
    expect(filesOnDisk()).toEqual(before)
  })

  it('a declared length within the body limit whose file is over MAX_UPLOAD_BYTES: 413, the partial file removed', async () => {
    const room = await createRoom(url, alice)
    const before = filesOnDisk()
    const form = multipart('big.bin', new Uint8Array(LIMIT + 1))
    const reply = await raw(uploadHead(room.id, alice.token, form.type, `content-length: ${form.body.length}\r\n`), (s) => void s.write(form.body))
    expect413(reply)
    expect(JSON.parse(reply.body).error.message).toBe(`file: at most ${LIMIT} bytes`)
    await eventually(async () => filesOnDisk().join() === before.join(), 5000, 'the partial file removed')
  })

  it('a chunked body that never ends: 413 once past the limit, the connection closed, nothing kept', async () => {
    const room = await createRoom(url, alice)
    const before = filesOnDisk()
    const form = multipart('endless.bin', new Uint8Array(0))
    const reply = await raw(uploadHead(room.id, alice.token, form.type, 'transfer-encoding: chunked\r\n'), (s, closed) => pour(s, closed, form.head, 64 * LIMIT, true))
    expect413(reply)
    await eventually(async () => filesOnDisk().join() === before.join(), 5000, 'the partial file removed')
  })

  it('a body that ends inside the file (no closing boundary): 400, nothing kept', async () => {
    const room = await createRoom(url, alice)
    const before = filesOnDisk()
    const form = multipart('cut.bin', new Uint8Array(0))
    const body = Buffer.concat([form.head, Buffer.alloc(10_000)])
    const reply = await raw(uploadHead(room.id, alice.token, form.type, `content-length: ${body.length}\r\nconnection: close\r\n`), (s) => void s.write(body))
    expect(reply.status).toBe(400)
    expect(JSON.parse(reply.body).error.message).toBe('request body: malformed multipart/form-data')
    await eventually(async () => filesOnDisk().join() === before.join(), 5000, 'the partial file removed')
    expect((await call(url, '/healthz')).status).toBe(200)
  })

  it('an upload the client abandons mid-body leaves nothing behind', async () => {
    const room = await createRoom(url, alice)
    const before = filesOnDisk()
    const form = multipart('half.bin', new Uint8Array(0))
    const port = Number(new URL(url).port)
    const socket = await Bun.connect({ hostname: '127.0.0.1', port, socket: { data() {}, error() {} } })
    socket.write(uploadHead(room.id, alice.token, form.type, `content-length: ${LIMIT}\r\n`))
    socket.write(Buffer.concat([form.head, Buffer.alloc(32 * 1024)]))
    // The server has begun writing the file; then the client goes.
    await eventually(async () => incoming().length > 0, 5000, 'the upload under way on disk')
    socket.terminate()
    await eventually(async () => incoming().length === 0, 5000, 'the partial file removed')
    expect(filesOnDisk()).toEqual(before)
    const history = await call(url, `/api/chat/rooms/${room.id}/messages`, { token: alice.token })
    expect(history.status).toBe(200)
  })
})

describe('a room gone while its upload streams in', () => {
  it('answers 404 (not 500) and keeps nothing', async () => {
    const room = await createRoom(url, alice)
    const before = filesOnDisk()
    const content = Buffer.alloc(32 * 1024, 7)
    const form = multipart('late.bin', content)
    const head = uploadHead(room.id, alice.token, form.type, `content-length: ${form.body.length}\r\nconnection: close\r\n`)
    const reply = await raw(head, async (socket) => {
      socket.write(Buffer.concat([form.head, content.subarray(0, 1024)]))
      await eventually(async () => incoming().length > 0, 5000, 'the upload under way on disk')
      expect((await call(url, `/api/chat/rooms/${room.id}`, { method: 'DELETE', token: alice.token })).status).toBe(204)
      socket.write(Buffer.concat([content.subarray(1024), form.tail]))
    })
    expect(reply.status).toBe(404)
    expect(JSON.parse(reply.body).error.code).toBe('not_found')
    await eventually(async () => incoming().length === 0, 5000, 'the received file removed')
    expect(filesOnDisk()).toEqual(before)
  })
})

describe('file names', () => {
  const cases: [string, string][] = [
    ['../../etc/passwd', '....etcpasswd'],
    ['..\\..\\windows\\win.ini', '....windowswin.ini'],
    ['<img src=x onerror=alert(1)>.html', '<img src=x onerror=alert(1)>.html'],
    ['..', 'file'],
    ['회의록 2026.pdf', '회의록 2026.pdf'],
    ['a\u202Etxt.exe', 'atxt.exe'],
  ]
  for (const [sent, kept] of cases) {
    it(`${JSON.stringify(sent)} is kept as ${JSON.stringify(kept)}, metadata only`, async () => {
      const room = await createRoom(url, alice)
      const file = await uploaded(alice, room.id, 'x', sent, 'text/html')
      expect(file.name).toBe(kept)
      expect(file.url).toBe(`/api/chat/attachments/${file.id}/${encodeURIComponent(kept)}`)
      const res = await download(file.url, alice.token)
      expect(res.status).toBe(200)
      // HTML is never served as HTML: a download, typed as bytes.
      expect(res.headers.get('content-type')).toBe('application/octet-stream')
      expect(res.headers.get('content-disposition')).toEndWith(`filename*=UTF-8''${encodeURIComponent(kept).replace(/[()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}`)
      // On disk only server-made names: two hex characters, then 32.
      expect(filesOnDisk().every((p) => /^(incoming\/.*|[0-9a-f]{2}\/[0-9a-f]{32})$/.test(p))).toBe(true)
    })
  }

  it('control characters (NUL, CR) are removed; an empty name becomes "file"', async () => {
    const room = await createRoom(url, alice)
    for (const [name, kept] of [['a\0b\x07.txt', 'ab.txt'], ['', 'file']] as const) {
      const form = multipart(name, Buffer.from('x'))
      const reply = await raw(uploadHead(room.id, alice.token, form.type, `content-length: ${form.body.length}\r\nconnection: close\r\n`), (s) => void s.write(form.body))
      expect(reply.status).toBe(201)
      expect(JSON.parse(reply.body).name).toBe(kept)
    }
  })
})

describe('who may read a file', () => {
  it('participants and readers of a public room; an outsider of a private room 404 like an unknown id; no session 401', async () => {
    const open = await createRoom(url, alice, { visibility: 'public' })
    const closed = await createRoom(url, alice, { participantIds: [bob.id] })
    for (const room of [open, closed]) {
      const file = await uploaded(alice, room.id, 'secret')
      expect((await postFiles(alice, room.id, { attachmentIds: [file.id] })).status).toBe(201)
      expect((await download(file.url, alice.token)).status).toBe(200)
      expect((await download(file.url, undefined)).status).toBe(401)
      if (room === open) expect((await download(file.url, carol.token)).status).toBe(200)
      else {
        expect((await download(file.url, bob.token)).status).toBe(200)
        const outsider = await download(file.url, carol.token)
        const unknown = await download(`/api/chat/attachments/999999/${file.name}`, carol.token)
        expect(outsider.status).toBe(404)
        expect(await outsider.text()).toBe(await unknown.text())
      }
    }
  })

  it('an upload not posted yet is its uploader\'s alone', async () => {
    const room = await createRoom(url, alice, { participantIds: [bob.id] })
    const file = await uploaded(alice, room.id, 'draft')
    expect((await download(file.url, alice.token)).status).toBe(200)
    expect((await download(file.url, bob.token)).status).toBe(404)
  })

  it('works with the session cookie (an <img src> in the web client)', async () => {
    const room = await createRoom(url, alice)
    const file = await uploaded(alice, room.id, 'cookie')
    const login = await call(url, '/api/auth/login', { body: { username: alice.username, password: 'password-123' } })
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!
    const res = await download(file.url, undefined, { cookie })
    expect(res.status).toBe(200)
    expect(await res.text()).toBe('cookie')
  })

  it('a deleted message takes its files: 404, and gone from disk', async () => {
    const room = await createRoom(url, alice)
    const file = await uploaded(alice, room.id, 'short-lived')
    const before = filesOnDisk().length
    const message = await postFiles(alice, room.id, { attachmentIds: [file.id] })
    expect((await call(url, `/api/chat/rooms/${room.id}/messages/${message.body.id}`, { method: 'DELETE', token: alice.token })).status).toBe(204)
    expect((await download(file.url, alice.token)).status).toBe(404)
    await eventually(async () => filesOnDisk().length === before - 1, 5000, 'the file removed from disk')
  })

  it('a file whose bytes are gone from disk answers 404 JSON, not 500', async () => {
    const room = await createRoom(url, alice)
    const before = new Set(filesOnDisk())
    const a = await uploaded(alice, room.id, 'soon gone')
    const stored = filesOnDisk().filter((p) => !before.has(p))
    expect(stored).toHaveLength(1)
    rmSync(join(filesRoot(), stored[0]!))
    const res = await download(a.url, alice.token)
    expect(res.status).toBe(404)
    expect((await res.json()).error.code).toBe('not_found')
  })

  it('a deleted room takes its files, posted or not', async () => {
    const room = await createRoom(url, alice)
    const posted = await uploaded(alice, room.id, 'one')
    const draft = await uploaded(alice, room.id, 'two')
    await postFiles(alice, room.id, { attachmentIds: [posted.id] })
    const before = filesOnDisk().length
    expect((await call(url, `/api/chat/rooms/${room.id}`, { method: 'DELETE', token: alice.token })).status).toBe(204)
    for (const file of [posted, draft]) expect((await download(file.url, alice.token)).status).toBe(404)
    await eventually(async () => filesOnDisk().length === before - 2, 5000, 'both files removed from disk')
  })
})

describe('Range and ETag', () => {
  let file: { url: string; id: number }
  const bytes = Buffer.from('0123456789abcdefghij')
  beforeAll(async () => {
    const room = await createRoom(url, alice)
    file = await uploaded(alice, room.id, bytes, 'clip.mp4', 'video/mp4')
  })

  it('serves one byte range as 206 with Content-Range', async () => {
    for (const [range, start, end] of [['bytes=0-3', 0, 3], ['bytes=15-', 15, 19], ['bytes=-4', 16, 19], ['bytes=18-500', 18, 19]] as const) {
      const res = await download(file.url, alice.token, { range })
      expect(res.status).toBe(206)
      expect(res.headers.get('content-range')).toBe(`bytes ${start}-${end}/20`)
      expect(res.headers.get('content-type')).toBe('video/mp4')
      expect(await res.text()).toBe(bytes.subarray(start, end + 1).toString())
    }
  })

  it('a range past the end is 416 as JSON; several ranges or a malformed one get the whole file', async () => {
    const past = await download(file.url, alice.token, { range: 'bytes=20-30' })
    expect(past.status).toBe(416)
    expect(past.headers.get('content-range')).toBe('bytes */20')
    expect((await past.json()).error.code).toBe('range_not_satisfiable')
    for (const range of ['bytes=0-1,5-6', 'items=0-3', 'bytes=5-2']) {
      const res = await download(file.url, alice.token, { range })
      expect(res.status).toBe(200)
      expect(await res.text()).toBe(bytes.toString())
    }
  })

  it('answers a matching If-None-Match with 304 and no body', async () => {
    const first = await download(file.url, alice.token)
    const etag = first.headers.get('etag')!
    expect(etag).toMatch(/^"[^"]+"$/)
    const again = await download(file.url, alice.token, { 'if-none-match': `"other", W/${etag}` })
    expect(again.status).toBe(304)
    expect(await again.text()).toBe('')
    expect((await download(file.url, alice.token, { 'if-none-match': '"other"' })).status).toBe(200)
  })
})

describe('posting with attachmentIds', () => {
  it('a message may be files alone, or files and text; history and streams carry them in the order given', async () => {
    const room = await createRoom(url, alice, { participantIds: [bob.id] })
    const stream = await openStream(url, `/api/chat/rooms/${room.id}/subscribe`, bob.token)
    try {
      const a = await uploaded(alice, room.id, 'a', 'a.txt')
      const b = await uploaded(alice, room.id, 'b', 'b.txt')
      const only = await postFiles(alice, room.id, { attachmentIds: [b.id, a.id] })
      expect(only.status).toBe(201)
      expect(only.body.content).toBe('')
      expect(only.body.attachments).toEqual([b, a])
      const c = await uploaded(alice, room.id, 'c', 'c.txt')
      const both = await postFiles(alice, room.id, { content: 'see attached', attachmentIds: [c.id] })
      expect(both.body.attachments).toEqual([c])
      const live = await stream.next((e) => e.event === 'message' && e.json.id === only.body.id)
      expect(live.json.attachments).toEqual([b, a])
      const history = await call(url, `/api/chat/rooms/${room.id}/messages`, { token: bob.token })
      expect(history.body.map((m: { attachments: unknown }) => m.attachments)).toEqual([[b, a], [c]])
      // A replay (resume) carries them too.
      const replay = await openStream(url, `/api/chat/rooms/${room.id}/subscribe`, bob.token, { 'last-event-id': String(only.body.id - 1) })
      try {
        expect((await replay.next((e) => e.event === 'message' && e.json.id === only.body.id)).json.attachments).toEqual([b, a])
      } finally {
        replay.close()
      }
      expect((await download(a.url, bob.token)).status).toBe(200)
    } finally {
      stream.close()
    }
  })

  it('refuses (400) another user\'s upload, another room\'s, one already attached, a repeat, none, and 11', async () => {
    const room = await createRoom(url, alice, { participantIds: [bob.id] })
    const other = await createRoom(url, alice)
    const bobs = await uploaded(bob, room.id, 'bob')
    const elsewhere = await uploaded(alice, other.id, 'elsewhere')
    const mine = await uploaded(alice, room.id, 'mine')
    const taken = await uploaded(alice, room.id, 'taken')
    expect((await postFiles(alice, room.id, { attachmentIds: [taken.id] })).status).toBe(201)
    const eleven = await Promise.all(Array.from({ length: 11 }, (_, i) => uploaded(alice, room.id, `n${i}`)))
    for (const attachmentIds of [[bobs.id], [elsewhere.id], [taken.id], [mine.id, mine.id], [mine.id, 999_999], [], eleven.map((f) => f.id)]) {
      const res = await postFiles(alice, room.id, { content: 'x', attachmentIds })
      expect({ attachmentIds, status: res.status, field: res.body.error?.message?.split(':')[0] }).toEqual({ attachmentIds, status: 400, field: 'attachmentIds' })
    }
    // Nothing refused was attached: the file is still free to post.
    expect((await postFiles(alice, room.id, { attachmentIds: [mine.id] })).status).toBe(201)
    expect((await postFiles(alice, room.id, { attachmentIds: eleven.slice(0, 10).map((f) => f.id) })).body.attachments).toHaveLength(10)
  })

  it('two posts at once with the same file: one takes it, the other is a 400', async () => {
    const room = await createRoom(url, alice)
    const file = await uploaded(alice, room.id, 'contested')
    const replies = await Promise.all([postFiles(alice, room.id, { attachmentIds: [file.id] }), postFiles(alice, room.id, { attachmentIds: [file.id] })])
    expect(replies.map((r) => r.status).sort()).toEqual([201, 400])
    const history = await call(url, `/api/chat/rooms/${room.id}/messages`, { token: alice.token })
    expect(history.body).toHaveLength(1)
  })

  it('an edit may clear the text of a message with files (not blank it), as a post may leave it out', async () => {
    const room = await createRoom(url, alice)
    const file = await uploaded(alice, room.id, 'captioned')
    const posted = (await postFiles(alice, room.id, { content: 'a caption', attachmentIds: [file.id] })).body
    const path = `/api/chat/rooms/${room.id}/messages/${posted.id}`
    expect((await call(url, path, { method: 'PATCH', token: alice.token, body: { content: '   ' } })).status).toBe(400)
    const cleared = await call(url, path, { method: 'PATCH', token: alice.token, body: { content: '' } })
    expect(cleared.status).toBe(200)
    expect(cleared.body).toMatchObject({ content: '', attachments: [file] })
    expect(cleared.body.editedAt).not.toBeNull()
  })

  it('without files content is still required and not blank; a retry with its clientMessageId returns the first message', async () => {
    const room = await createRoom(url, alice)
    expect((await postFiles(alice, room.id, {})).body.error.message).toBe('content: is required')
    expect((await postFiles(alice, room.id, { content: '' })).status).toBe(400)
    const file = await uploaded(alice, room.id, 'retry')
    const first = await postFiles(alice, room.id, { attachmentIds: [file.id], clientMessageId: 'files-1' })
    const again = await postFiles(alice, room.id, { attachmentIds: [file.id], clientMessageId: 'files-1' })
    expect([first.status, again.status]).toEqual([201, 200])
    expect(again.body).toEqual(first.body)
  })
})

describe('the orphan sweep', () => {
  it('deletes uploads left unattached for 24 hours, and only those', async () => {
    const swept = await startServer({ uploadSweepIntervalMs: 200 })
    try {
      const user = await newUser(swept.url, 'sweep')
      const room = await createRoom(swept.url, user)
      const up = async (text: string) => {
        const form = new FormData()
        form.append('file', new File([text], `${text}.txt`))
        return (await fetch(`${swept.url}/api/chat/rooms/${room.id}/attachments`, { method: 'POST', headers: { authorization: `Bearer ${user.token}` }, body: form }).then((r) => r.json())) as { id: number; url: string }
      }
      const [old, fresh, posted] = [await up('old'), await up('fresh'), await up('posted')]
      await call(swept.url, `/api/chat/rooms/${room.id}/messages`, { token: user.token, body: { attachmentIds: [posted.id] } })
      // A day passes for two of them: the unattached one goes, the posted one stays.
      await onDatabase(swept.config, 'UPDATE files SET created_at = created_at - 25 * 3600 * 1000 WHERE id IN (?, ?)', old.id, posted.id)
      const status = async (file: { url: string }) => (await fetch(swept.url + file.url, { headers: { authorization: `Bearer ${user.token}` } })).status
      await eventually(async () => (await status(old)) === 404, 5000, 'the old upload swept')
      await eventually(async () => filesOnDisk(swept).filter((p) => !p.startsWith('incoming')).length === 2, 5000, 'its file removed')
      expect([await status(fresh), await status(posted)]).toEqual([200, 200])
    } finally {
      await swept.stop()
    }
  })

  it('removes what a crash left on disk a day ago: a half-received upload, a stored file no row names', async () => {
    const probe = await startServer()
    const root = filesRoot(probe)
    await probe.stop()
    // Written while no server runs, as a crash would leave them, then aged a day.
    const dayAgo = new Date(Date.now() - 25 * 3600 * 1000)
    const leftovers = [join(root, 'incoming', 'crashed.part'), join(root, 'ab', `ab${'0'.repeat(30)}`)]
    const recent = join(root, 'incoming', 'in-flight.part')
    for (const path of [...leftovers, recent]) {
      mkdirSync(dirname(path), { recursive: true })
      writeFileSync(path, 'left over')
    }
    for (const path of leftovers) utimesSync(path, dayAgo, dayAgo)
    const swept = await startServer({ databasePath: probe.config.databasePath, uploadSweepIntervalMs: 200 })
    try {
      await eventually(async () => leftovers.every((path) => !existsSync(path)), 5000, 'the leftovers removed')
      // An upload of another instance may be under way: a recent file stays.
      expect(existsSync(recent)).toBe(true)
    } finally {
      await swept.stop()
    }
  })
})

describe('several instances on one host', () => {
  it('a file uploaded on one is served by another (the same database and FILES_PATH)', async () => {
    const other = await startServer({ databasePath: server.config.databasePath, maxUploadBytes: LIMIT })
    try {
      const room = await createRoom(url, alice, { participantIds: [bob.id] })
      const file = await uploaded(alice, room.id, 'shared bytes')
      await postFiles(alice, room.id, { attachmentIds: [file.id] })
      const res = await fetch(other.url + file.url, { headers: { authorization: `Bearer ${bob.token}` } })
      expect(res.status).toBe(200)
      expect(await res.text()).toBe('shared bytes')
    } finally {
      await other.stop()
    }
  })
})
