/**
 * Smoke run of the compiled binary as a user would run it: copied alone into an empty folder,
 * started with no Bun on its PATH, then registered against, posted to, read and streamed from
 * over HTTP, and stopped with SIGTERM. Usage: bun scripts/smoke-binary.ts [dist/chat-server]
 */
import { copyFileSync, existsSync, mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const binary = resolve(process.argv[2] ?? 'dist/chat-server')
const folder = mkdtempSync(join(tmpdir(), 'chat-smoke-'))
copyFileSync(binary, join(folder, 'chat-server'))

function check(condition: unknown, what: string): asserts condition {
  if (!condition) throw new Error(`smoke: ${what}`)
  console.log(`ok - ${what}`)
}

const started = performance.now()
const proc = Bun.spawn(['./chat-server'], {
  cwd: folder,
  env: { PATH: '/usr/local/sbin:/usr/sbin:/sbin', PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn' },
  stdout: 'pipe',
  stderr: 'inherit',
})

try {
  const reader = proc.stdout.getReader()
  let banner = ''
  while (!/listening on http:\/\/[^:]+:(\d+)/.test(banner)) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`smoke: the binary exited before listening: ${banner}`)
    banner += new TextDecoder().decode(value)
  }
  const url = `http://127.0.0.1:${/listening on http:\/\/[^:]+:(\d+)/.exec(banner)![1]}`
  check((await fetch(`${url}/healthz`)).status === 200, `answers /healthz (${(performance.now() - started).toFixed(0)} ms after exec)`)
  check(existsSync(join(folder, 'data', 'chat.db')), 'created ./data/chat.db on first start')

  const json = (body: unknown, token?: string) => ({
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  })
  const reg = await fetch(`${url}/api/auth/register`, json({ username: 'smoke', password: 'smoke-password' }))
  check(reg.status === 201, 'registers a user')
  const { token } = (await reg.json()) as { token: string }
  const room = (await (await fetch(`${url}/api/chat/rooms`, json({ name: 'smoke room' }, token))).json()) as { id: number }
  check(room.id > 0, 'creates a room')

  const stream = await fetch(`${url}/api/chat/rooms/${room.id}/subscribe`, { headers: { authorization: `Bearer ${token}` } })
  check(stream.headers.get('content-type')?.startsWith('text/event-stream'), 'opens an SSE stream')
  const posted = await fetch(`${url}/api/chat/rooms/${room.id}/messages`, json({ content: 'hello from the binary' }, token))
  check(posted.status === 201, 'posts a message')
  const streamReader = stream.body!.getReader()
  let seen = ''
  const deadline = Date.now() + 5000
  while (!seen.includes('hello from the binary') && Date.now() < deadline) seen += new TextDecoder().decode((await streamReader.read()).value)
  check(seen.includes('event: message'), 'delivers the message live on the stream')
  await streamReader.cancel()

  const history = (await (await fetch(`${url}/api/chat/rooms/${room.id}/messages`, { headers: { authorization: `Bearer ${token}` } })).json()) as { content: string }[]
  check(history.length === 1 && history[0]!.content === 'hello from the binary', 'reads the message back from history')
  // Schema bounds as the source enforces them: a minifier that renamed identifiers once let
  // these through in the binary alone (README, Building).
  for (const path of [`/api/chat/rooms/${room.id}/messages?limit=-1`, `/api/chat/rooms/${room.id}/messages?limit=0`, `/api/chat/rooms/${room.id}/messages?afterId=-5`, '/api/chat/rooms/0', '/api/chat/users?limit=0']) {
    const res = await fetch(url + path, { headers: { authorization: `Bearer ${token}` } })
    check(res.status === 400, `answers 400 to ${path} (schema bounds hold in the binary)`)
  }
  const page = await fetch(`${url}/`)
  check(page.status === 200 && (await page.text()).includes('<'), 'serves the web client at /')
  const swagger = await fetch(`${url}/swagger`)
  check(swagger.status === 200, 'serves the API docs at /swagger')
  const bundle = /src="([^"]+\.js)"/.exec(await swagger.text())?.[1]
  check(bundle && (await fetch(url + bundle)).status === 200, 'serves the Swagger UI script itself (no CDN)')

  proc.kill('SIGTERM')
  check((await proc.exited) === 0, 'exits 0 on SIGTERM')
  console.log('smoke: all good')
} finally {
  if (proc.exitCode === null) proc.kill('SIGKILL')
}
