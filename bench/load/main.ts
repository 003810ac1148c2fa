/**
 * A load generator process: runs one scenario against one server and prints its figures as
 * one JSON line. It runs apart from the server (and on the other core) so the two never share
 * an event loop or a CPU.
 */
import { TARGETS } from '../targets'
import { changes, fanout } from './fanout'
import { history } from './history'
import { idle } from './idle'
import { ingest } from './ingest'
import { search } from './search'
import { uploads } from './upload'
import type { Figures, LoadContext, LoadJob, LoadScenario } from './job'

// The plan's shape was chosen by run.ts for this scenario; each runner takes its own part.
const SCENARIOS: Record<LoadScenario, (context: LoadContext, params: never) => Promise<Figures>> = {
  fanout,
  changes,
  ingest,
  idle,
  upload: uploads,
  history,
  search,
}

const job = JSON.parse(process.argv[2]!) as LoadJob
const context: LoadContext = {
  target: TARGETS[job.target],
  port: job.port,
  base: `http://127.0.0.1:${job.port}`,
  pid: job.pid,
  database: job.database,
}
const figures = await SCENARIOS[job.scenario](context, job.params as never)
console.log(JSON.stringify(figures))
process.exit(0)
