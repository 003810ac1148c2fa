import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { connect, type Socket } from 'node:net'
import { createRoom, eventually, newUsers, openStream, post, startServer, type TestServer, type TestUser } from './helpers'

const BOUND = 128 * 1024
let server: TestServer
let alice: TestUser
beforeAll(async () => {
  server = await startServer({ streamMaxBufferBytes: BOUND })
  ;[alice] = await newUsers(server.url, 1, 'slow')
})
afterAll(() => server.stop())

/** One unlabelled series from /metrics: asked over HTTP, so the test runs against the binary too. */
async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text()
  const sample = new RegExp(`^${name} (\\S+)$`, 'm').exec(text)
  if (!sample) throw new Error(`no ${name} in /metrics`)
  return Number(sample[1])
}

/** A client that sends its request and then never reads a byte. */
function stalledReader(path: string, token: string): Promise<Socket> {
  const { port } = new URL(server.url)
  return new Promise((resolve) => {
    const socket = connect({ port: Number(port), host: '127.0.0.1' }, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer ${token}\r\nAccept: text/event-stream\r\n\r\n`)
      resolve(socket)
    })
    socket.pause()
  })
}

describe('a subscriber that stops reading', () => {
  it('is cut off past the bound while the others keep receiving everything', async () => {
    const room = await createRoom(server.url, alice)
    const healthy = await openStream(server.url, `/api/chat/rooms/${room.id}/subscribe`, alice.token)
    const stalled = await stalledReader(`/api/chat/rooms/${room.id}/subscribe`, alice.token)
    const streamsOpen = () => metric('chat_streams_open')
    await eventually(async () => (await streamsOpen()) === 2, 2000, 'both streams open')

    // Posts of 3 KiB until the stalled stream has been cut: the kernel's socket buffers take
    // a few MiB first, then the server queues up to the bound and lets go.
    const sent: number[] = []
    const filler = 'x'.repeat(3000)
    while ((await streamsOpen()) === 2 && sent.length < 5000) sent.push((await post(server.url, alice, room.id, filler)).id)
    expect(await streamsOpen()).toBe(1)
    for (let i = 0; i < 20; i++) sent.push((await post(server.url, alice, room.id, 'after the cut')).id)
    await healthy.until((s) => s.messageIds().length === sent.length, 10_000, 'every message on the healthy stream')
    expect(healthy.messageIds()).toEqual(sent)
    expect(await metric('chat_streams_cut_total')).toBe(1)

    // Once it reads again it finds the connection closed by the server.
    const closed = new Promise<void>((done) => stalled.on('close', () => done()))
    stalled.on('data', () => {})
    stalled.resume()
    await closed
    healthy.close()
  }, 60_000)
})
