/** What the bench asks of a load generator process, and what it answers. */
import type { Target, TargetName } from '../targets/target'

export type LoadScenario = 'fanout' | 'changes' | 'ingest' | 'idle' | 'upload' | 'history' | 'search'

export interface LoadJob {
  scenario: LoadScenario
  target: TargetName
  port: number
  /** The server's pid, to read its CPU time and memory from /proc around the measured part. */
  pid: number
  /** The server's database: a SQLite file's path, or a postgres:// URL. */
  database: string
  params: unknown
}

/** Named numbers; report.ts knows their labels and units. */
export type Figures = Record<string, number>

export interface LoadContext {
  target: Target
  port: number
  base: string
  pid: number
  /** The server's database: a SQLite file's path, or a postgres:// URL. */
  database: string
}

/** Progress goes to stderr; stdout carries only the answer. */
export const progress = (message: string) => console.error(`  ${message}`)
