/** Start-up: exec to the first answer from /healthz, on a new database and on the seeded one. */
import { join } from 'node:path'
import type { StartupPlan } from './plan'
import { startServer } from './server'
import type { Figures } from './load/job'
import type { Target } from './targets/target'

/**
 * The best wall and CPU time over `runs` starts: other work on the machine only ever adds to
 * a start, so the minimum is the closest to what the server itself needs.
 */
async function timeStarts(target: Target, runs: number, databasePath: (run: number) => string) {
  const wall: number[] = []
  const cpu: number[] = []
  for (let run = 0; run < runs; run++) {
    const server = await startServer(target, databasePath(run))
    wall.push(server.startupMs)
    cpu.push(server.startupCpuMs)
    await server.stop()
  }
  return { wall: Math.min(...wall), cpu: Math.min(...cpu) }
}

export async function startup(target: Target, plan: StartupPlan, workDir: string, seededPath: string): Promise<Figures> {
  const empty = await timeStarts(target, plan.runs, run => join(workDir, `empty-${run}.db`))
  const seeded = await timeStarts(target, plan.runs, () => seededPath)
  return { emptyMs: empty.wall, emptyCpuMs: empty.cpu, seededMs: seeded.wall, seededCpuMs: seeded.cpu }
}
