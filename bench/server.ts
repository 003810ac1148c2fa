/** Starts a target's server on the server core with a given database, and stops it. */
import type { BenchDatabase } from './databases'
import { cpuMicros } from './proc-stats'
import { SERVER_CORE, spawnPinned } from './processes'
import type { Target } from './targets/target'

export interface RunningServer {
  pid: number
  port: number
  base: string
  /** Exec to the first 200 from /healthz, in milliseconds. */
  startupMs: number
  /** The server's CPU time (all threads) until then: steadier than the wall time on a busy machine. */
  startupCpuMs: number
  stop(): Promise<void>
}

const STOP_GRACE_MS = 10_000

/** A port nobody listens on right now (the kernel's pick, released at once). */
function freePort(): number {
  const probe = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const port = probe.port
  probe.stop(true)
  return port
}

export async function startServer(target: Target, database: BenchDatabase, timeoutMs = 30_000): Promise<RunningServer> {
  const executable = await target.executable()
  const port = freePort()
  const base = `http://127.0.0.1:${port}`
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    PORT: String(port),
    HOST: '127.0.0.1',
    ...database.env,
    ...target.env,
  }
  const started = performance.now()
  const proc = spawnPinned([executable], SERVER_CORE, env, 'ignore')
  let exited: number | null = null
  void proc.exited.then(code => (exited = code))

  const stop = async () => {
    if (exited !== null) return
    proc.kill('SIGTERM')
    const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS)
    await proc.exited
    clearTimeout(timer)
  }

  // Polled back to back: the poller sits on the other core, so it does not slow the start.
  while (true) {
    if (exited !== null) throw new Error(`${target.name} server exited with ${exited} before answering /healthz`)
    if (performance.now() - started > timeoutMs) {
      await stop()
      throw new Error(`${target.name} server did not answer /healthz within ${timeoutMs} ms`)
    }
    const healthy = await fetch(`${base}/healthz`).then(response => response.ok, () => false)
    if (healthy) {
      const startupMs = performance.now() - started
      return { pid: proc.pid, port, base, startupMs, startupCpuMs: cpuMicros(proc.pid) / 1000, stop }
    }
  }
}
