import { afterAll, afterEach, beforeAll, describe, expect, it } from 'bun:test'
import { connect, type Socket } from 'node:net'
import { AppError } from '../src/errors'
import { createHashGate, defaultHashGateOptions } from '../src/modules/auth/hash-gate'
import { call, createRoom, eventually, newUser, openStream, post, SseStream, startServer, type Reply, type TestServer, type TestUser } from './helpers'

/** Everything a test opened, closed after it whatever happened. */
const opened: { close(): void }[] = []
afterEach(() => {
  for (const thing of opened.splice(0)) thing.close()
})

const track = <T extends { close(): void }>(thing: T) => (opened.push(thing), thing)

/** One unlabelled series from /metrics: asked over HTTP, so the test runs against the binary too. */
async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text()
  const sample = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)
  if (!sample) throw new Error(`no ${name} in /metrics`)
  return Number(sample[1])
}

/** Opens a stream; a refusal comes back as its status instead of a stream. */
async function tryStream(url: string, path: string, token: string): Promise<{ stream: SseStream } | { status: number }> {
  const abort = new AbortController()
  const res = await fetch(url + path, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' }, signal: abort.signal })
  if (res.status === 200) return { stream: track(new SseStream(res, abort)) }
  await res.body?.cancel()
  return { status: res.status }
}

async function expectRefused(url: string, path: string, token: string) {
  const res = await call(url, path, { token })
  expect(res.status).toBe(429)
  expect(res.headers.get('content-type')).toContain('application/json')
  expect(res.body.error.code).toBe('rate_limited')
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
}

describe('MAX_STREAMS_PER_USER', () => {
  const LIMIT = 3
  let server: TestServer
  beforeAll(async () => (server = await startServer({ maxStreamsPerUser: LIMIT, streamMaxBufferBytes: 64 * 1024 })))
  afterAll(() => server.stop())

  // Each test has its own user: streams closed by the previous test may still be closing.
  async function userWithRoom() {
    const user = await newUser(server.url, 'quota')
    return { user, roomPath: `/api/chat/rooms/${(await createRoom(server.url, user)).id}/subscribe` }
  }
  const userStream = (user: TestUser) => openStream(server.url, '/api/chat/stream', user.token).then(track)
  const fill = async (user: TestUser, n = LIMIT) => {
    const streams: SseStream[] = []
    for (let i = 0; i < n; i++) streams.push(await userStream(user))
    return streams
  }

  it('refuses the stream past the limit with 429, Retry-After and the JSON error, room and user streams together', async () => {
    const { user, roomPath } = await userWithRoom()
    track(await openStream(server.url, roomPath, user.token))
    await userStream(user)
    track(await openStream(server.url, roomPath, user.token))
    await expectRefused(server.url, roomPath, user.token)
    await expectRefused(server.url, '/api/chat/stream', user.token)
  })

  it('counts per user: another user still opens streams', async () => {
    const { user } = await userWithRoom()
    await fill(user)
    await userStream(await newUser(server.url, 'quota'))
    await expectRefused(server.url, '/api/chat/stream', user.token)
  })

  it('lets exactly the limit through when many streams are opened at once', async () => {
    const { user } = await userWithRoom()
    const results = await Promise.all(Array.from({ length: LIMIT * 5 }, () => tryStream(server.url, '/api/chat/stream', user.token)))
    expect(results.filter((r) => 'stream' in r).length).toBe(LIMIT)
    expect(results.filter((r) => !('stream' in r)).map((r) => ('status' in r ? r.status : 200))).toEqual(Array(LIMIT * 4).fill(429))
  })

  it('does not join a public room when the subscribe is refused', async () => {
    const { user } = await userWithRoom()
    await fill(user)
    const owner = await newUser(server.url, 'quota')
    const open = await createRoom(server.url, owner, { visibility: 'public' })
    await expectRefused(server.url, `/api/chat/rooms/${open.id}/subscribe`, user.token)
    const room = await call(server.url, `/api/chat/rooms/${open.id}`, { token: owner.token })
    expect(room.body.participants.map((p: { id: number }) => p.id)).not.toContain(user.id)
  })

  it('frees the slot of a stream the client closed', async () => {
    const { user } = await userWithRoom()
    const [first] = await fill(user)
    await expectRefused(server.url, '/api/chat/stream', user.token)
    first!.close()
    // The server learns of the close from the socket: ask until it has.
    await eventually(async () => 'stream' in (await tryStream(server.url, '/api/chat/stream', user.token)), 5000, 'a slot freed')
    await expectRefused(server.url, '/api/chat/stream', user.token)
  })

  it('frees the slots of streams ended by logout and by a room deletion at once', async () => {
    const { user, roomPath } = await userWithRoom()
    const second = await call(server.url, '/api/auth/login', { body: { username: user.username, password: 'password-123' } })
    const byLogout = track(await openStream(server.url, '/api/chat/stream', second.body.token))
    const byDeletion = track(await openStream(server.url, roomPath, user.token))
    await userStream(user)
    await expectRefused(server.url, '/api/chat/stream', user.token)

    expect((await call(server.url, '/api/auth/logout', { method: 'POST', token: second.body.token })).status).toBe(204)
    await byLogout.ended()
    await userStream(user)

    expect((await call(server.url, roomPath.replace('/subscribe', ''), { method: 'DELETE', token: user.token })).status).toBe(204)
    await byDeletion.ended()
    await userStream(user)
    await expectRefused(server.url, '/api/chat/stream', user.token)
  })

  it('frees the slot of a stream cut for not reading, without waiting for its socket to close', async () => {
    const { user, roomPath } = await userWithRoom()
    const roomId = Number(roomPath.split('/')[4])
    const streamsBefore = await metric(server.url, 'chat_streams_open')
    const stalled = await stalledReader(server.url, roomPath, user.token)
    opened.push({ close: () => stalled.destroy() })
    await eventually(async () => (await metric(server.url, 'chat_streams_open')) > streamsBefore, 2000, 'the stalled stream open')
    await fill(user, LIMIT - 1)
    await expectRefused(server.url, '/api/chat/stream', user.token)

    // Posts of 3 KB until the stalled stream is cut: the kernel's socket buffers take a few MB first.
    const cutBefore = await metric(server.url, 'chat_streams_cut_total')
    const filler = 'x'.repeat(3000)
    for (let i = 0; i < 500 && (await metric(server.url, 'chat_streams_cut_total')) === cutBefore; i++) {
      for (let j = 0; j < 10; j++) await post(server.url, user, roomId, filler)
    }
    expect(await metric(server.url, 'chat_streams_cut_total')).toBe(cutBefore + 1)
    await userStream(user)
    await expectRefused(server.url, '/api/chat/stream', user.token)
  }, 60_000)
})

/** A client that sends its request and then never reads a byte. */
function stalledReader(url: string, path: string, token: string): Promise<Socket> {
  const { port } = new URL(url)
  return new Promise((resolve) => {
    const socket = connect({ port: Number(port), host: '127.0.0.1' }, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nAccept: text/event-stream\r\n\r\n`)
      resolve(socket)
    })
    socket.pause()
  })
}

describe('MAX_STREAMS_PER_USER defaults', () => {
  it('is 100 by default, and 0 lifts the limit', async () => {
    const limited = await startServer()
    const unlimited = await startServer({ maxStreamsPerUser: 0 })
    try {
      for (const [server, refused] of [[limited, true], [unlimited, false]] as const) {
        const user = await newUser(server.url, 'many')
        for (let i = 0; i < 100; i++) track(await openStream(server.url, '/api/chat/stream', user.token))
        if (refused) await expectRefused(server.url, '/api/chat/stream', user.token)
        else track(await openStream(server.url, '/api/chat/stream', user.token))
        for (const thing of opened.splice(0)) thing.close()
      }
    } finally {
      await Promise.all([limited.stop(), unlimited.stop()])
    }
  }, 30_000)
})

describe('RATE_LIMIT_AUTH_PER_MINUTE', () => {
  const LIMIT = 4
  const servers: TestServer[] = []
  const serve = async (overrides: Parameters<typeof startServer>[0]) => {
    const server = await startServer(overrides)
    servers.push(server)
    return server
  }
  afterEach(async () => void (await Promise.all(servers.splice(0).map((s) => s.stop()))))

  let names = 0
  const fresh = () => `addr_${process.pid}_${++names}`
  const register = (server: TestServer, headers: Record<string, string> = {}, username = fresh()) =>
    call(server.url, '/api/auth/register', { body: { username, password: 'password-123' }, headers })
  const login = (server: TestServer, username: string, password: string, headers: Record<string, string> = {}) =>
    call(server.url, '/api/auth/login', { body: { username, password }, headers })

  function expectLimited(res: Reply) {
    expect(res.status).toBe(429)
    expect(res.body.error.code).toBe('rate_limited')
    // A minute's allowance of LIMIT refills one attempt every 60 / LIMIT seconds.
    const retryAfter = Number(res.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThanOrEqual(1)
    expect(retryAfter).toBeLessThanOrEqual(60 / LIMIT)
  }

  it('counts register and login from one address together and answers 429 with Retry-After past the limit', async () => {
    const server = await serve({ rateLimitAuthPerMinute: LIMIT })
    const name = fresh()
    expect((await register(server, {}, name)).status).toBe(201)
    expect((await login(server, name, 'password-123')).status).toBe(200)
    expect((await login(server, name, 'wrong-password')).status).toBe(401)
    expect((await register(server)).status).toBe(201)
    const asked = performance.now()
    const refused = await Promise.all([register(server), login(server, name, 'password-123')])
    refused.forEach(expectLimited)
    // Held before it is answered, so a flood that asks again at once asks once a second.
    expect(performance.now() - asked).toBeGreaterThanOrEqual(990)
  })

  it('counts refused attempts too: a bad username or password is an attempt', async () => {
    const server = await serve({ rateLimitAuthPerMinute: LIMIT })
    for (let i = 0; i < LIMIT; i++) expect((await register(server, {}, 'x')).status).toBe(400)
    expectLimited(await register(server))
  })

  it('ignores X-Forwarded-For without TRUST_PROXY, so a made-up header cannot dodge the limit', async () => {
    const server = await serve({ rateLimitAuthPerMinute: LIMIT })
    for (let i = 0; i < LIMIT; i++) expect((await register(server, { 'x-forwarded-for': `198.51.100.${i}` })).status).toBe(201)
    ;(await Promise.all([register(server, { 'x-forwarded-for': '198.51.100.200' }), register(server)])).forEach(expectLimited)
  })

  it('with TRUST_PROXY counts by the first X-Forwarded-For hop; without one, by the peer', async () => {
    const server = await serve({ rateLimitAuthPerMinute: LIMIT, trustProxy: true })
    const behind = (client: string) => ({ 'x-forwarded-for': `${client}, 10.0.0.1` })
    for (let i = 0; i < LIMIT; i++) expect((await register(server, behind('203.0.113.7'))).status).toBe(201)
    expectLimited(await register(server, behind('203.0.113.7')))
    expect((await register(server, behind('203.0.113.8'))).status).toBe(201)
    expect((await register(server)).status).toBe(201)
    // A first hop that is no address counts as the peer, not as a key of its own.
    for (let i = 1; i < LIMIT; i++) expect((await register(server, { 'x-forwarded-for': `not-an-address-${i}` })).status).toBe(201)
    expectLimited(await register(server, { 'x-forwarded-for': 'not-an-address-again' }))
  })

  it('keeps the per-account throttle when every guess comes from another address', async () => {
    const server = await serve({ rateLimitAuthPerMinute: LIMIT, trustProxy: true })
    const name = fresh()
    expect((await register(server, { 'x-forwarded-for': '192.0.2.1' }, name)).status).toBe(201)
    const from = (i: number) => ({ 'x-forwarded-for': `192.0.2.${10 + i}` })
    for (let i = 0; i < 10; i++) expect((await login(server, name, `guess-${i}-xx`, from(i))).status).toBe(401)
    const limited = await login(server, name, 'password-123', from(99))
    expect(limited.status).toBe(429)
    expect(limited.body.error.code).toBe('rate_limited')
  })

  it('with TRUST_PROXY counts an IPv6 client by its /64 network', async () => {
    const server = await serve({ rateLimitAuthPerMinute: LIMIT, trustProxy: true })
    for (let i = 1; i <= LIMIT; i++) expect((await register(server, { 'x-forwarded-for': `2001:db8:0:7::${i}` })).status).toBe(201)
    expectLimited(await register(server, { 'x-forwarded-for': '2001:db8:0:7:ffff::1' }))
    expect((await register(server, { 'x-forwarded-for': '2001:db8:0:8::1' })).status).toBe(201)
  })

  it('is 60 by default, and 0 turns it off', async () => {
    const [byDefault, off] = await Promise.all([serve({ rateLimitAuthPerMinute: 60 }), serve({ rateLimitAuthPerMinute: 0 })])
    for (const server of [byDefault, off]) for (let i = 0; i < 60; i++) expect((await register(server, {}, 'x')).status).toBe(400)
    expect((await register(byDefault, {}, 'x')).status).toBe(429)
    expect((await register(off, {}, 'x')).status).toBe(400)
  })
})

describe('the password hash gate', () => {
  const PASSWORD_HASH = { algorithm: 'argon2id', memoryCost: 19_456, timeCost: 2 } as const

  it('runs at most its bound at once, the rest in order, and every verify answers right', async () => {
    const gate = createHashGate({ concurrency: 2, maxWaiting: 50 })
    const hash = await Bun.password.hash('the right one', PASSWORD_HASH)
    let running = 0
    let most = 0
    const started: number[] = []
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        gate.run(async () => {
          started.push(i)
          most = Math.max(most, ++running)
          try {
            return await Bun.password.verify(i % 3 === 0 ? 'the right one' : `wrong ${i}`, hash)
          } finally {
            running--
          }
        }),
      ),
    )
    expect(most).toBe(2)
    expect(started).toEqual(Array.from({ length: 16 }, (_, i) => i))
    expect(results).toEqual(Array.from({ length: 16 }, (_, i) => i % 3 === 0))
  }, 30_000)

  it('refuses at once past its queue with 503 and Retry-After, then serves the queue and new work', async () => {
    const gate = createHashGate({ concurrency: 1, maxWaiting: 3 })
    let release!: () => void
    const holding = gate.run(() => new Promise<void>((done) => (release = done)))
    const queued = [1, 2, 3].map((n) => gate.run(async () => n))
    const refused = await gate.run(async () => 0).catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(AppError)
    expect(refused).toMatchObject({ code: 'unavailable', status: 503 })
    expect((refused as AppError).retryAfter).toBeGreaterThanOrEqual(1)
    release()
    await holding
    expect(await Promise.all(queued)).toEqual([1, 2, 3])
    expect(await gate.run(async () => 'again')).toBe('again')
  })

  it('gives the turn of a failed task to the next', async () => {
    const gate = createHashGate({ concurrency: 1, maxWaiting: 1 })
    const failing = gate.run(async () => {
      throw new Error('broken hash')
    })
    const next = gate.run(async () => 'next')
    await expect(failing).rejects.toThrow('broken hash')
    expect(await next).toBe('next')
  })

  describe('behind sign-in and registration', () => {
    let server: TestServer
    beforeAll(async () => (server = await startServer()))
    afterAll(() => server.stop())

    it('answers every one of many concurrent logins right while they queue', async () => {
      const users = await Promise.all(Array.from({ length: 4 }, () => newUser(server.url, 'gate')))
      const attempts = users.flatMap((user) => [
        { username: user.username, password: 'password-123', expect: 200 },
        ...Array.from({ length: 5 }, (_, i) => ({ username: user.username, password: `wrong-${i}-xx`, expect: 401 })),
        { username: `${user.username}_nobody`, password: 'password-123', expect: 401 },
      ])
      const replies = await Promise.all(attempts.map((a) => call(server.url, '/api/auth/login', { body: { username: a.username, password: a.password } })))
      expect(replies.map((r) => r.status)).toEqual(attempts.map((a) => a.expect))
    }, 30_000)

    it('answers a flood past the queue with 503 and Retry-After in the error shape, and keeps serving', async () => {
      const { concurrency, maxWaiting } = defaultHashGateOptions()
      const flood = 2 * (concurrency + maxWaiting)
      const replies = await Promise.all(
        Array.from({ length: flood }, (_, i) => call(server.url, '/api/auth/login', { body: { username: `flood_${process.pid}_${i}`, password: 'password-123' } })),
      )
      const refused = replies.filter((r) => r.status === 503)
      expect(replies.every((r) => r.status === 401 || r.status === 503)).toBe(true)
      expect(replies.filter((r) => r.status === 401).length).toBeGreaterThanOrEqual(concurrency)
      expect(refused.length).toBeGreaterThan(0)
      for (const r of refused) {
        expect(r.body.error.code).toBe('unavailable')
        expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1)
      }
      const user = await newUser(server.url, 'gate')
      expect((await call(server.url, '/api/auth/login', { body: { username: user.username, password: 'password-123' } })).status).toBe(200)
    }, 30_000)
  })
})
