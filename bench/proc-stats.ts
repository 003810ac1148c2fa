/**
 * What the kernel says a server process has spent: CPU time (all its threads) and memory.
 * CPU time is steadier than wall time on a shared machine, so the bench reports it per unit
 * of work. Linux only; /proc is read fresh on every call.
 */
import { readFileSync } from 'node:fs'

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat, 100 on every Linux we run. */
const TICKS_PER_SECOND = 100

/** utime + stime of the process so far, in microseconds (10 ms resolution). */
export function cpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // The command name (field 2) may contain spaces; fields after its ')' are fixed.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(fields[11]) + Number(fields[12]) // utime, stime (fields 14 and 15)
  return (ticks * 1e6) / TICKS_PER_SECOND
}

/** Current resident set (VmRSS) and its peak so far (VmHWM), in KiB. */
export function memoryKiB(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  const field = (name: string) => Number(status.match(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm'))?.[1])
  return { rss: field('VmRSS'), peak: field('VmHWM') }
}

/**
 * Starts measuring one stretch of a scenario: the server's CPU time, and how busy the server
 * and this load generator were (either near 100%: that side was the limit, and latencies are
 * mostly queueing).
 */
export function startMeter(serverPid: number): () => { serverCpuUs: number; serverCpuPercent: number; loadCpuPercent: number } {
  const serverBefore = cpuMicros(serverPid)
  const loadBefore = cpuMicros(process.pid)
  const started = performance.now()
  return () => {
    const percent = (micros: number) => micros / ((performance.now() - started) * 10)
    const serverCpuUs = cpuMicros(serverPid) - serverBefore
    return { serverCpuUs, serverCpuPercent: percent(serverCpuUs), loadCpuPercent: percent(cpuMicros(process.pid) - loadBefore) }
  }
}
