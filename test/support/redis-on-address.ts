/**
 * A throw-away redis-server bound to one given address (redis-server.ts's startRedis binds
 * 127.0.0.1 only, which the test hosts in network namespaces cannot reach): a free port, no
 * persistence, stopped by its own PID. Protected mode is off: it would refuse every client that
 * is not on loopback, and the address is on the test hosts' own subnet only.
 */
import { findRedisServer } from './redis-server'
import { freePortOn } from './netns'

const START_DEADLINE_MS = 5_000
const STOP_DEADLINE_MS = 2_000

export interface AddressedRedis {
  url: string
  port: number
  stop(): Promise<void>
}

export async function startRedisOn(host: string): Promise<AddressedRedis> {
  const binary = findRedisServer()
  if (!binary) throw new Error('redis-server is not installed (bash scripts/install-test-deps.sh)')
  const port = await freePortOn(host)
  const proc = Bun.spawn([binary, '--port', String(port), '--bind', host, '--protected-mode', 'no', '--save', '', '--appendonly', 'no', '--loglevel', 'warning'], { stdout: 'pipe', stderr: 'pipe' })
  const stop = async () => {
    if (proc.exitCode !== null || proc.signalCode !== null) return
    proc.kill('SIGTERM')
    const exited = await Promise.race([proc.exited.then(() => true), Bun.sleep(STOP_DEADLINE_MS).then(() => false)])
    if (!exited) {
      proc.kill('SIGKILL')
      await proc.exited
    }
  }
  // Polling is the only way to learn that another process is listening; the deadline bounds it.
  const deadline = Date.now() + START_DEADLINE_MS
  while (Date.now() < deadline && proc.exitCode === null) {
    if (await answersPing(host, port)) return { url: `redis://${host}:${port}`, port, stop }
    await Bun.sleep(20)
  }
  await stop()
  const output = (await new Response(proc.stdout).text()) + (await new Response(proc.stderr).text())
  throw new Error(`redis-server on ${host}:${port} did not answer PING within ${START_DEADLINE_MS} ms:\n${output}`)
}

/** One raw RESP PING over TCP: true when the reply is +PONG. */
async function answersPing(host: string, port: number): Promise<boolean> {
  const { promise, resolve } = Promise.withResolvers<boolean>()
  const timer = setTimeout(() => resolve(false), 500)
  try {
    const socket = await Bun.connect({
      hostname: host,
      port,
      socket: {
        data: (_, data) => resolve(data.toString().startsWith('+PONG')),
        close: () => resolve(false),
        error: () => resolve(false),
      },
    })
    socket.write('PING\r\n')
    const answered = await promise
    socket.end()
    return answered
  } catch {
    return false
  } finally {
    clearTimeout(timer)
  }
}
