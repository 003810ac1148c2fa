/**
 * The server as a child process on a test host (a network namespace, see netns.ts): the
 * source, or the compiled binary when CHAT_SERVER_BIN is set (serverCommand()), listening on
 * the host's own address. Every host has a port space of its own, so all use one fixed port.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { spawnInHost, type TestHost } from './netns'
import { serverCommand } from './server-process'

const ROOT = resolve(import.meta.dir, '../..')
const PORT = 3000
const START_DEADLINE_MS = 20_000
const STOP_DEADLINE_MS = 10_000

export interface HostServer {
  host: TestHost
  url: string
  pid: number
  /** What the server printed last (a bounded tail), to explain a failure. */
  output(): string
  /** SIGTERM, then SIGKILL past the deadline; resolves once it has exited. */
  stop(): Promise<void>
}

/** Starts the server on `host` with `env` on top of the test defaults; resolves once /readyz is 200. */
export async function startHostServer(host: TestHost, env: Record<string, string>): Promise<HostServer> {
  // The SQLite file is the host's own: if the server ignored DATABASE_URL, the hosts would share nothing and the test would fail.
  const dir = mkdtempSync(join(tmpdir(), `chat-host-${host.name}-`))
  const proc = spawnInHost(host, serverCommand(), {
    cwd: ROOT,
    env: {
      ...process.env,
      HOST: host.address,
      PORT: String(PORT),
      DATABASE_PATH: join(dir, 'chat.db'),
      LOG_LEVEL: 'warn',
      RATE_LIMIT_AUTH_PER_MINUTE: '0',
      RATE_LIMIT_MESSAGES_PER_MINUTE: '0',
      ...env,
    },
  })
  let tail = ''
  const drain = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder()
    for await (const chunk of stream) tail = (tail + decoder.decode(chunk, { stream: true })).slice(-8_000)
  }
  void drain(proc.stdout)
  void drain(proc.stderr)

  const url = `http://${host.address}:${PORT}`
  const server: HostServer = {
    host,
    url,
    pid: proc.pid,
    output: () => tail,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        process.kill(proc.pid, 'SIGTERM')
        const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(STOP_DEADLINE_MS).then(() => false)])
        if (!exited) {
          process.kill(proc.pid, 'SIGKILL')
          await proc.exited
        }
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }

  // Another process's readiness has no event to await: /readyz is asked until it says 200.
  const deadline = Date.now() + START_DEADLINE_MS
  for (;;) {
    if (proc.exitCode !== null) {
      await server.stop()
      throw new Error(`the server on host ${host.name} exited (code ${proc.exitCode}) before it was ready:\n${tail}`)
    }
    const status = await fetch(url + '/readyz', { signal: AbortSignal.timeout(1_000) }).then((r) => r.status, () => 0)
    if (status === 200) return server
    if (Date.now() > deadline) {
      await server.stop()
      throw new Error(`the server on host ${host.name} was not ready within ${START_DEADLINE_MS} ms (last /readyz: ${status || 'no answer'}):\n${tail}`)
    }
    await Bun.sleep(50)
  }
}
