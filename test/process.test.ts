import { describe, expect, it } from 'bun:test'
import { Database } from 'bun:sqlite'
import { join, resolve } from 'node:path'
import { call, createRoom, newUser, openStream, post, tempDir } from './helpers'
import { serverCommand, spawnServer } from './support/server-process'

const ROOT = resolve(import.meta.dir, '..')

/** Runs the server to completion (for start-up failures and --help). */
async function runOnce(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn([...serverCommand(), ...args], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', DATABASE_PATH: join(tempDir(), 'chat.db'), ...env },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  return { stdout, stderr, code }
}

describe('configuration', () => {
  it.each([
    [['--port', 'abc'], {}, '--port'],
    [[], { PORT: '70000' }, 'PORT'],
    [[], { HEARTBEAT_INTERVAL_MS: 'soon' }, 'HEARTBEAT_INTERVAL_MS'],
    [[], { ALLOW_REGISTRATION: 'maybe' }, 'ALLOW_REGISTRATION'],
    [[], { REDIS_URL: 'http://nope' }, 'REDIS_URL'],
    [[], { LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [['--bogus'], {}, '--bogus'],
  ])('a bad value %p %p stops the server with one line naming %s', async (args, env, name) => {
    const { stderr, code } = await runOnce(args, env)
    expect(code).not.toBe(0)
    expect(stderr.trim().split('\n')).toHaveLength(1)
    expect(stderr).toContain(name)
    expect(stderr).not.toMatch(/\bat .*:\d+/)
  })

  it('an unwritable database folder stops the server with one clear line', async () => {
    // Tests run as root, who may write anywhere: a folder under a regular file can never exist.
    const dir = tempDir()
    await Bun.write(join(dir, 'file.txt'), 'x')
    const { stderr, code } = await runOnce([], { DATABASE_PATH: join(dir, 'file.txt', 'db', 'chat.db') })
    expect(code).not.toBe(0)
    expect(stderr).toContain('DATABASE_PATH')
    expect(stderr.trim().split('\n')).toHaveLength(1)
  })

  it('--help lists every setting; --version prints the version', async () => {
    const help = await runOnce(['--help'])
    expect(help.code).toBe(0)
    for (const flag of ['--port', '--host', '--database-path', '--redis-url', '--heartbeat-interval-ms', '--allow-registration', '--rate-limit-messages-per-minute', '--stream-max-buffer-bytes', '--log-level']) {
      expect(help.stdout).toContain(flag)
    }
    const version = await runOnce(['--version'])
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
  })

  it('refuses a database written by a newer version', async () => {
    const path = join(tempDir(), 'chat.db')
    const db = new Database(path, { create: true })
    db.run('PRAGMA user_version = 999')
    db.close()
    const { stderr, code } = await runOnce([], { DATABASE_PATH: path })
    expect(code).not.toBe(0)
    expect(stderr).toContain('newer')
  })
})

describe('lifecycle', () => {
  it('SIGTERM ends the streams cleanly and exits 0; a restart keeps everything', async () => {
    const server = await spawnServer()
    const user = await newUser(server.url, 'term')
    const room = await createRoom(server.url, user)
    const m = await post(server.url, user, room.id, 'before shutdown')
    const stream = await openStream(server.url, '/api/chat/stream', user.token)
    const started = Date.now()
    const code = await server.stop('SIGTERM')
    await stream.ended(2000)
    expect(code).toBe(0)
    expect(Date.now() - started).toBeLessThan(10_000)
    await server.restart()
    try {
      const history = await call(server.url, `/api/chat/rooms/${room.id}/messages`, { token: user.token })
      expect(history.body.map((x: any) => x.id)).toEqual([m.id])
    } finally {
      await server.stop()
    }
  }, 30_000)

  it('after SIGKILL everything that got a 2xx is still there', async () => {
    const server = await spawnServer()
    const user = await newUser(server.url, 'kill')
    const room = await createRoom(server.url, user, { visibility: 'public' })
    const acked: number[] = []
    // Kill it in the middle of a stream of posts: every acknowledged message must survive.
    const posting = (async () => {
      for (let i = 0; i < 2000; i++) {
        try {
          acked.push((await post(server.url, user, room.id, `m${i}`)).id)
        } catch {
          return
        }
      }
    })()
    while (acked.length < 50) await Bun.sleep(5)
    await server.stop('SIGKILL')
    await posting
    await server.restart()
    try {
      const me = await call(server.url, '/api/auth/me', { token: user.token })
      expect(me.status).toBe(200)
      const stored: number[] = []
      let cursor = 0
      for (;;) {
        const page = await call(server.url, `/api/chat/rooms/${room.id}/messages?afterId=${cursor}&limit=200`, { token: user.token })
        if (page.body.length === 0) break
        stored.push(...page.body.map((x: any) => x.id))
        cursor = stored.at(-1)!
      }
      for (const id of acked) expect(stored).toContain(id)
    } finally {
      await server.stop()
    }
  }, 30_000)
})
