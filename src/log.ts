import type { LogLevel } from './config'

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

export type LogFields = Record<string, unknown>
export type Logger = Record<LogLevel, (msg: string, fields?: LogFields) => void> & {
  enabled(level: LogLevel): boolean
}

/** One JSON object per line on stdout (errors on stderr), below `level` dropped. */
export function createLogger(level: LogLevel, write = defaultWrite): Logger {
  const min = RANK[level]
  const emit = (lvl: LogLevel) => (msg: string, fields?: LogFields) => {
    if (RANK[lvl] < min) return
    write(lvl, JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...fields }))
  }
  return {
    debug: emit('debug'),
    info: emit('info'),
    warn: emit('warn'),
    error: emit('error'),
    enabled: (lvl) => RANK[lvl] >= min,
  }
}

function defaultWrite(level: LogLevel, line: string) {
  if (level === 'error') process.stderr.write(line + '\n')
  else process.stdout.write(line + '\n')
}
