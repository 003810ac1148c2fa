/** Start-up: exec to the first answer from /healthz, on a new database and on the seeded one. */
import { createDatabase, type BenchDatabase } from './databases'
import type { StartupPlan } from './plan'
import { startServer } from './server'
import type { Figures } from './load/job'
import type { Target } from './targets/target'

/**
 * The best wall and CPU time over `runs` starts: other work on the machine only ever adds to
 * a start, so the minimum is the closest to what the server itself needs.
 */
async function timeStarts(target: Target, runs: number, database: (run: number) => Promise<BenchDatabase>) {
  const wall: number[] = []
  const cpu: number[] = []
  for (let run = 0; run < runs; run++) {
    const db = await database(run)
    const server = await startServer(target, db)
    wall.push(server.startupMs)
    cpu.push(server.startupCpuMs)
    await server.stop()
  }
  return { wall: Math.min(...wall), cpu: Math.min(...cpu) }
}

export async function startup(target: Target, plan: StartupPlan, workDir: string, seeded: BenchDatabase): Promise<Figures> {
  const empties: BenchDatabase[] = []
  const empty = await timeStarts(target, plan.runs, async run => {
    const db = await createDatabase(target.store, workDir, `empty-${target.name}-${run}`)
    empties.push(db)
    return db
  }).finally(() => Promise.all(empties.map(db => db.drop())))
  const fromSeeded = await timeStarts(target, plan.runs, async () => seeded)
  return { emptyMs: empty.wall, emptyCpuMs: empty.cpu, seededMs: fromSeeded.wall, seededCpuMs: fromSeeded.cpu }
}
