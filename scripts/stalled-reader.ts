/**
 * Measures the server's memory while one subscriber stops reading: starts the compiled binary,
 * opens a healthy and a stalled stream, posts ~30 MB through the room, and prints the server's
 * RSS before, at the peak and after, and when the stalled stream was cut. Runs a control
 * without the stalled reader too, so the difference is the stalled reader's own cost.
 * Usage: bun scripts/stalled-reader.ts [dist/chat-server]
 */
import { mkdtempSync, readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const binary = resolve(process.argv[2] ?? 'dist/chat-server')

for (const withStalled of [false, true]) await measure(withStalled)

async function measure(withStalled: boolean) {
const dir = mkdtempSync(join(tmpdir(), 'chat-stall-'))
const proc = Bun.spawn([binary], { env: { PORT: '0', HOST: '127.0.0.1', DATABASE_PATH: join(dir, 'chat.db'), LOG_LEVEL: 'warn', RATE_LIMIT_MESSAGES_PER_MINUTE: '0' }, stdout: 'pipe' })
const rssKiB = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${proc.pid}/status`, 'utf8'))![1])

try {
  let banner = ''
  const reader = proc.stdout.getReader()
  while (!/:(\d+) \(/.test(banner)) banner += new TextDecoder().decode((await reader.read()).value)
  const port = Number(/:(\d+) \(/.exec(banner)![1])
  const url = `http://127.0.0.1:${port}`
  const post = (path: string, body: unknown, token?: string) =>
    fetch(url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) }).then((r) => r.json() as any)

  const { token } = await post('/api/auth/register', { username: 'stall', password: 'password-123' })
  const room = await post('/api/chat/rooms', { name: 'stall' }, token)
  const path = `/api/chat/rooms/${room.id}/subscribe`

  let healthyBytes = 0
  const healthy = await fetch(url + path, { headers: { authorization: `Bearer ${token}` } })
  void (async () => {
    for await (const chunk of healthy.body!) healthyBytes += chunk.byteLength
  })()
  const stalled = connect({ port, host: '127.0.0.1' }, () => {
    if (withStalled) stalled.write(`GET ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`)
  })
  stalled.pause()
  await Bun.sleep(300)

  const before = rssKiB()
  let peak = before
  let cutAfterMB = -1
  const content = 'x'.repeat(3000)
  for (let i = 1; i <= 10_000; i++) {
    await post(path.replace('/subscribe', '/messages'), { content }, token)
    if (i % 200 === 0) {
      peak = Math.max(peak, rssKiB())
      const metrics = await (await fetch(url + '/metrics')).text()
      if (cutAfterMB < 0 && /^chat_streams_cut_total 1$/m.test(metrics)) cutAfterMB = (i * 3000) / 1e6
    }
  }
  Bun.gc(true)
  await Bun.sleep(500)
  console.log(withStalled ? `with a stalled reader (cut after ${cutAfterMB.toFixed(1)} MB posted: the 1 MiB bound plus kernel socket buffers):` : 'control, no stalled reader:')
  console.log(`  server RSS before ${(before / 1024).toFixed(1)} MiB, peak ${(peak / 1024).toFixed(1)} MiB, after ${(rssKiB() / 1024).toFixed(1)} MiB; 30 MB posted; healthy stream read ${(healthyBytes / 1e6).toFixed(1)} MB`)
  stalled.destroy()
} finally {
  proc.kill('SIGTERM')
  await proc.exited
}
}
