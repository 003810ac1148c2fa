/**
 * Every process the bench starts: pinned to its core (the server on one, the load on the
 * other, so neither steals the other's CPU and the server's CPU time is its own), and
 * remembered by pid so the bench can kill exactly them however it ends.
 */
import type { Subprocess } from 'bun'

export const SERVER_CORE = 0
export const LOAD_CORE = 1

const TASKSET = Bun.which('taskset')
const PINNED = TASKSET !== null && navigator.hardwareConcurrency > LOAD_CORE
const running = new Set<Subprocess>()

export const PINNING = PINNED
  ? `server on core ${SERVER_CORE}, load generator on core ${LOAD_CORE} (taskset)`
  : 'not pinned (no taskset, or a single core)'

/** taskset execs the command, so the pid returned is the command's own. stderr is passed through. */
export function spawnPinned<const Out extends 'pipe' | 'ignore'>(argv: string[], core: number, env: Record<string, string>, stdout: Out) {
  const proc = Bun.spawn(PINNED ? [TASKSET!, '-c', String(core), ...argv] : argv, { env, stdin: 'ignore', stdout, stderr: 'inherit' })
  running.add(proc)
  void proc.exited.then(() => running.delete(proc))
  return proc
}

/** Moves this process (every thread) to the load generator's core. */
export function pinSelfToLoadCore(): void {
  if (PINNED) Bun.spawnSync([TASKSET!, '-a', '-p', '-c', String(LOAD_CORE), String(process.pid)], { stdout: 'ignore' })
}

/** Kills every process the bench started that is still running, by its pid. */
export function killAll(): void {
  for (const proc of running) proc.kill('SIGKILL')
}
