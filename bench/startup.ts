/** Start-up: exec to the first answer from /healthz, on a new database and on the seeded one. */
import { join } from 'node:path'
import type { StartupPlan } from './plan'
import { startServer } from './server'
import type { Figures } from './load/job'
import type { Target } from './targets/target'

const median = (values: number[]) => values.sort((a, b) => a - b)[Math.floor(values.length / 2)]!

async function timeStarts(target: Target, runs: number, databasePath: (run: number) => string): Promise<number> {
  const times: number[] = []
  for (let run = 0; run < runs; run++) {
    const server = await startServer(target, databasePath(run))
    times.push(server.startupMs)
    await server.stop()
  }
  return median(times)
}

export async function startup(target: Target, plan: StartupPlan, workDir: string, seededPath: string): Promise<Figures> {
  return {
    emptyMs: await timeStarts(target, plan.runs, run => join(workDir, `empty-${run}.db`)),
    seededMs: await timeStarts(target, plan.runs, () => seededPath),
  }
}
