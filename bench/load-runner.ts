/** Runs one scenario in a load generator process on the load core, and collects its figures. */
import { join } from 'node:path'
import type { Figures, LoadJob } from './load/job'
import { LOAD_CORE, spawnPinned } from './processes'

const ENTRY = join(import.meta.dir, 'load', 'main.ts')

export async function runLoad(job: LoadJob, timeoutMs: number): Promise<Figures> {
  // Streams and posts are raw sockets; fetch only sets up and asks for history pages one at a
  // time, so its 256-request cap (BUN_CONFIG_MAX_HTTP_REQUESTS) is never in the way.
  const env = process.env as Record<string, string>
  const proc = spawnPinned([process.execPath, ENTRY, JSON.stringify(job)], LOAD_CORE, env, 'pipe')
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    proc.kill('SIGKILL')
  }, timeoutMs)
  try {
    const output = await new Response(proc.stdout).text()
    const code = await proc.exited
    if (timedOut) throw new Error(`load generator did not finish within ${timeoutMs / 1000} s`)
    if (code !== 0) throw new Error(`load generator exited with ${code}`)
    return JSON.parse(output.trim().split('\n').pop()!) as Figures
  } finally {
    clearTimeout(timer)
  }
}
