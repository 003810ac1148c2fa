/**
 * The command line as a child process (`chat-server <command> ...`), run by the same executable
 * as test/support/server-process.ts: the binary under CHAT_SERVER_BIN, else the source.
 */
import { resolve } from 'node:path'
import { SETTINGS } from '../../src/config'
import { serverCommand } from './server-process'

const ROOT = resolve(import.meta.dir, '../..')
const DEADLINE_MS = 60_000

export interface CliRun {
  code: number
  stdout: string
  stderr: string
  /** stdout's lines, without the empty last one. */
  lines: string[]
}

/**
 * Runs one command to its end. Every setting's variable is cleared unless given in `env`, so
 * nothing in this process's environment picks another database.
 */
export async function runCli(args: string[], options: { env?: Record<string, string>; stdin?: string } = {}): Promise<CliRun> {
  const cleared = Object.fromEntries(SETTINGS.map((s) => [s.env, '']))
  const proc = Bun.spawn([...serverCommand(), ...args], {
    cwd: ROOT,
    env: { ...process.env, ...cleared, ...options.env },
    stdin: options.stdin === undefined ? 'ignore' : new Blob([options.stdin]),
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const timer = setTimeout(() => proc.kill('SIGKILL'), DEADLINE_MS)
  try {
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
    if (proc.signalCode === 'SIGKILL') throw new Error(`chat-server ${args.join(' ')} did not end within ${DEADLINE_MS} ms`)
    return { code, stdout, stderr, lines: stdout.split('\n').filter((line, i, all) => line !== '' || i < all.length - 1) }
  } finally {
    clearTimeout(timer)
  }
}
