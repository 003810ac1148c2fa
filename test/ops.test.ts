import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { call, startServer, type TestServer } from './helpers'

let server: TestServer
beforeAll(async () => (server = await startServer()))
afterAll(() => server.stop())

describe('operations', () => {
  it('healthz and readyz answer 200 with the database up', async () => {
    expect((await call(server.url, '/healthz')).status).toBe(200)
    const ready = await call(server.url, '/readyz')
    expect(ready.status).toBe(200)
    expect(ready.body).toEqual({ status: 'ready', database: true })
  })

  it('metrics are Prometheus text', async () => {
    const res = await fetch(`${server.url}/metrics`)
    expect(res.headers.get('content-type')).toContain('text/plain')
    const text = await res.text()
    for (const name of ['chat_streams_open', 'chat_messages_stored_total', 'chat_events_delivered_total', 'chat_delivery_latency_seconds', 'http_requests_total', 'http_request_duration_seconds']) {
      expect(text).toContain(`# TYPE ${name} `)
    }
  })
})

describe('API documentation', () => {
  it('serves the Swagger UI with its assets from this server, no CDN', async () => {
    const page = await fetch(`${server.url}/swagger`)
    expect(page.status).toBe(200)
    const html = await page.text()
    const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!)
    expect(assets.length).toBeGreaterThan(0)
    for (const asset of assets) {
      expect(asset).toStartWith('/')
      const res = await fetch(server.url + asset)
      expect([asset, res.status]).toEqual([asset, 200])
    }
    expect(html).not.toMatch(/https?:\/\/(unpkg|cdn|fonts)/)
  })

  it('documents every route with its parameters, bodies and error responses', async () => {
    const spec = (await call(server.url, '/swagger/json')).body
    const paths = Object.keys(spec.paths)
    for (const path of [
      '/api/auth/register', '/api/auth/login', '/api/auth/logout', '/api/auth/me', '/api/chat/users', '/api/chat/rooms',
      '/api/chat/rooms/{roomId}', '/api/chat/rooms/{roomId}/join', '/api/chat/rooms/{roomId}/leave', '/api/chat/rooms/{roomId}/participants',
      '/api/chat/users/{userId}/rooms', '/api/chat/rooms/{roomId}/messages', '/api/chat/rooms/{roomId}/read', '/api/chat/rooms/{roomId}/typing',
      '/api/chat/rooms/{roomId}/subscribe', '/api/chat/stream', '/healthz', '/readyz', '/metrics',
    ]) {
      expect(paths).toContain(path)
    }
    const post = spec.paths['/api/chat/rooms/{roomId}/messages'].post
    expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(['201', '200', '400', '401', '403', '404', '413', '415', '429']))
    expect(JSON.stringify(post.requestBody)).toContain('clientMessageId')
    expect(spec.paths['/api/chat/stream'].get.responses['200'].content['text/event-stream']).toBeDefined()
  })
})
