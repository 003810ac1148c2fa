/**
 * A private, throw-away redis-server for tests: its own free port, no persistence, killed by its
 * own PID. Never the machine's default Redis on 6379.
 */

const START_DEADLINE_MS = 5_000
const STOP_DEADLINE_MS = 2_000

export interface TestRedis {
  url: string
  port: number
  /** Kill the server (default SIGKILL: a crash, no goodbye to clients) and wait for its exit. */
  kill(signal?: NodeJS.Signals): Promise<void>
  /** Freeze it (SIGSTOP): connections stay open and nothing answers, like a hung server. */
  pause(): void
  /** Let a paused server run again (SIGCONT). */
  resume(): void
  /** Start it again on the same port and wait until it answers. */
  restart(): Promise<void>
  /** Stop it for good (SIGTERM, then SIGKILL if it lingers). */
  stop(): Promise<void>
}

/**
 * Where redis-server is, or null. Under CI a missing server is an error, never a silent skip:
 * a green run that tested nothing is worse than a red one.
 */
export function findRedisServer(): string | null {
  const path = Bun.which('redis-server')
  if (!path && process.env.CI === 'true') {
    throw new Error('redis-server is not installed, and CI=true: the Redis tests must run in CI')
  }
  if (!path) console.warn('redis-server not found: skipping the Redis tests (install redis-server to run them)')
  return path
}

/** A port nobody listens on right now (bound briefly by the kernel's choice, then released). */
export function freePort(): number {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = probe.port
  probe.stop(true)
  return port
}

/**
 * `host`: the address it binds, 127.0.0.1 unless a test's hosts (network namespaces) must
 * reach it on theirs; then protected mode is off, which would refuse every client not on
 * loopback (the address is on the test's own subnet only).
 */
export async function startRedis(port = freePort(), host = '127.0.0.1'): Promise<TestRedis> {
  const binary = findRedisServer()
  if (!binary) throw new Error('redis-server is not installed')
  let proc = await spawn(binary, host, port)

  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    if (proc.exitCode !== null || proc.signalCode !== null) return
    proc.kill(signal)
    await proc.exited
  }

  return {
    url: `redis://${host}:${port}`,
    port,
    kill,
    pause: () => proc.kill('SIGSTOP'),
    resume: () => proc.kill('SIGCONT'),
    async restart() {
      await kill()
      proc = await spawn(binary, host, port)
    },
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return
      proc.kill('SIGCONT')
      const exited = proc.exited.then(() => true)
      proc.kill('SIGTERM')
      const timeout = new Promise<false>((resolve) => setTimeout(resolve, STOP_DEADLINE_MS, false))
      if (!(await Promise.race([exited, timeout]))) await kill('SIGKILL')
    },
  }
}

async function spawn(binary: string, host: string, port: number) {
  const guard = host === '127.0.0.1' ? [] : ['--protected-mode', 'no']
  const proc = Bun.spawn(
    [binary, '--port', String(port), '--bind', host, ...guard, '--save', '', '--appendonly', 'no', '--loglevel', 'warning'],
    { stdout: 'pipe', stderr: 'pipe' },
  )
  // Polling is the only way to learn that another process is listening; the deadline bounds it.
  const deadline = Date.now() + START_DEADLINE_MS
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) break
    if (await answersPing(host, port)) return proc
    await Bun.sleep(20)
  }
  proc.kill('SIGKILL')
  await proc.exited
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
