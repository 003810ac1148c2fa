/**
 * The CPU time PostgreSQL spends for one server: the backends connected to its database (the
 * server's pool), read from /proc like the server's own. With SQLite that work happens inside
 * the server process and is already in its CPU time; with PostgreSQL it happens in other
 * processes, so a fair comparison adds it. The cluster's shared processes (WAL writer,
 * checkpointer) serve every database on the machine and are not counted.
 */
import { SQL } from 'bun'
import { existsSync } from 'node:fs'
import { POSTGRES_ADMIN_URL } from '../test/support/postgres'
import { cpuMicros } from './proc-stats'

async function backendCpu(admin: SQL, name: string): Promise<Map<number, number>> {
  const rows: { pid: number }[] = await admin`SELECT pid FROM pg_stat_activity WHERE datname = ${name} AND pid <> pg_backend_pid()`
  const cpu = new Map<number, number>()
  // A backend may exit between the query and the read.
  for (const { pid } of rows) if (existsSync(`/proc/${pid}/stat`)) cpu.set(pid, cpuMicros(pid))
  return cpu
}

/**
 * Starts measuring the backends of `database` (a postgres:// URL; undefined for a SQLite file).
 * The stop function answers their CPU time since, in microseconds: a backend that connected in
 * between counts from zero; one that exited in between is lost (the pool keeps its connections
 * far longer than a scenario runs).
 */
export async function startDatabaseMeter(database: string): Promise<(() => Promise<number>) | undefined> {
  if (!/^postgres(ql)?:\/\//.test(database)) return undefined
  const name = decodeURIComponent(new URL(database).pathname.slice(1))
  const admin = new SQL(POSTGRES_ADMIN_URL, { max: 1 })
  const before = await backendCpu(admin, name)
  return async () => {
    try {
      const after = await backendCpu(admin, name)
      let micros = 0
      for (const [pid, cpu] of after) micros += cpu - (before.get(pid) ?? 0)
      return micros
    } finally {
      await admin.close({ timeout: 1 })
    }
  }
}
