/**
 * What PostgreSQL spends for one server: the CPU time of the backends connected to its
 * database (the server's pool), read from /proc like the server's own, and the transactions it
 * committed there. With SQLite that work happens inside the server process and is already in
 * its CPU time; with PostgreSQL it happens in other processes, so a fair comparison adds it.
 * Transactions per message show whether concurrent posts share a commit (group commit). The
 * cluster's shared processes (WAL writer, checkpointer) serve every database on the machine
 * and are not counted.
 */
import { SQL } from 'bun'
import { existsSync } from 'node:fs'
import { POSTGRES_ADMIN_URL } from '../test/support/postgres'
import { cpuMicros } from './proc-stats'

/**
 * A backend reports its transaction counts when it goes idle, at most once a second
 * (PostgreSQL 15's statistics): the count is read after that long.
 */
const STATS_FLUSH_MS = 1_200

async function backendCpu(admin: SQL, name: string): Promise<Map<number, number>> {
  const rows: { pid: number }[] = await admin`SELECT pid FROM pg_stat_activity WHERE datname = ${name} AND pid <> pg_backend_pid()`
  const cpu = new Map<number, number>()
  // A backend may exit between the query and the read.
  for (const { pid } of rows) if (existsSync(`/proc/${pid}/stat`)) cpu.set(pid, cpuMicros(pid))
  return cpu
}

async function transactions(admin: SQL, name: string): Promise<number> {
  const [row] = await admin`SELECT xact_commit + xact_rollback AS n FROM pg_stat_database WHERE datname = ${name}`
  return Number(row?.n ?? 0)
}

export interface DatabaseUse {
  cpuUs: number
  transactions: number
}

/**
 * Starts measuring the database at `database` (a postgres:// URL; undefined for a SQLite
 * file). The stop function answers what it spent since: a backend that connected in between
 * counts from zero; one that exited in between is lost (the pool keeps its connections far
 * longer than a scenario runs).
 */
export async function startDatabaseMeter(database: string): Promise<(() => Promise<DatabaseUse>) | undefined> {
  if (!/^postgres(ql)?:\/\//.test(database)) return undefined
  const name = decodeURIComponent(new URL(database).pathname.slice(1))
  const admin = new SQL(POSTGRES_ADMIN_URL, { max: 1 })
  const cpuBefore = await backendCpu(admin, name)
  const transactionsBefore = await transactions(admin, name)
  return async () => {
    try {
      let cpuUs = 0
      for (const [pid, cpu] of await backendCpu(admin, name)) cpuUs += cpu - (cpuBefore.get(pid) ?? 0)
      await Bun.sleep(STATS_FLUSH_MS)
      return { cpuUs, transactions: (await transactions(admin, name)) - transactionsBefore }
    } finally {
      await admin.close({ timeout: 1 })
    }
  }
}
