import { mkdirSync, accessSync, constants } from 'node:fs'
import { dirname, resolve } from 'node:path'

/**
 * The server's whole configuration: every setting is an environment variable and a flag of the
 * same meaning (flags win). Parsed and checked once, at start-up; nothing else reads process.env.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

export interface Config {
  port: number
  host: string
  databasePath: string
  redisUrl: string | undefined
  /** Set: the PostgreSQL store (many hosts); unset: the SQLite file at databasePath. */
  databaseUrl: string | undefined
  /** PostgreSQL: the longest a query may take before its request gets 503. */
  databaseTimeoutMs: number
  heartbeatIntervalMs: number
  allowRegistration: boolean
  rateLimitMessagesPerMinute: number
  streamMaxBufferBytes: number
  logLevel: LogLevel
  /** How long a session lives without use; each use pushes it forward. */
  sessionTtlDays: number
  /** Register and login attempts per client address per minute; 0 turns the limit off. */
  rateLimitAuthPerMinute: number
  /** Take the client address from the first X-Forwarded-For hop (behind a reverse proxy). */
  trustProxy: boolean
  /** Open streams per user on this instance; 0: no limit. */
  maxStreamsPerUser: number
  /** The largest upload, in bytes. */
  maxUploadBytes: number
  /** Where uploads are kept; undefined: a `files` folder beside the database (files/storage.ts). */
  filesPath: string | undefined
  /** How often unattached uploads older than 24 hours are looked for and deleted. */
  uploadSweepIntervalMs: number
  /** The origin of links the server makes (invites, resets); undefined: the request's own. */
  publicUrl: string | undefined
  /** Accept http:// push endpoints (tests against a local push service); else https:// only. */
  pushAllowHttp: boolean
  /** A user with no stream open on any instance for this long is away: Web Push tells them. */
  pushAwayMs: number
  /** How long an outgoing webhook call (or push) may take before it counts as failed. */
  webhookTimeoutMs: number
  /** The first retry of a failed call waits this long; each next one twice as long. */
  deliveryRetryBaseMs: number
  /** A call still failing this long after its message is given up (chat_outgoing_failed_total). */
  deliveryGiveUpMs: number
  /** Outgoing calls in flight at once on this instance. */
  deliveryConcurrency: number
}

type Parser<T> = (raw: string) => T | undefined

const int = (min: number, max: number): Parser<number> => (raw) => {
  if (!/^\d+$/.test(raw.trim())) return undefined
  const n = Number(raw)
  return n >= min && n <= max ? n : undefined
}
const bool: Parser<boolean> = (raw) =>
  ({ true: true, '1': true, yes: true, false: false, '0': false, no: false })[raw.trim().toLowerCase()]
const text: Parser<string> = (raw) => (raw.trim() ? raw.trim() : undefined)
const redisUrl: Parser<string> = (raw) => (/^rediss?:\/\/.+/.test(raw.trim()) ? raw.trim() : undefined)
const postgresUrl: Parser<string> = (raw) => (/^postgres(ql)?:\/\/.+/.test(raw.trim()) ? raw.trim() : undefined)
const httpUrl: Parser<string> = (raw) => (/^https?:\/\/[^\s/]+(\/\S*)?$/.test(raw.trim()) ? raw.trim().replace(/\/+$/, '') : undefined)
const level: Parser<LogLevel> = (raw) =>
  (['debug', 'info', 'warn', 'error'] as const).find((l) => l === raw.trim().toLowerCase())

interface Setting<K extends keyof Config> {
  key: K
  env: string
  flag: string
  parse: Parser<Config[K]>
  /** What a valid value looks like, for the error line. */
  expect: string
  fallback: Config[K]
  help: string
}

const setting = <K extends keyof Config>(s: Setting<K>) => s

export const SETTINGS = [
  setting({ key: 'port', env: 'PORT', flag: '--port', parse: int(0, 65535), expect: 'an integer 0-65535', fallback: 3000, help: 'listening port (0: any free port, printed at start-up)' }),
  setting({ key: 'host', env: 'HOST', flag: '--host', parse: text, expect: 'a host name or address', fallback: '0.0.0.0', help: 'listening address' }),
  setting({ key: 'databasePath', env: 'DATABASE_PATH', flag: '--database-path', parse: text, expect: 'a file path', fallback: './data/chat.db', help: 'SQLite file (its folder is created)' }),
  setting({ key: 'redisUrl', env: 'REDIS_URL', flag: '--redis-url', parse: redisUrl, expect: 'a redis:// or rediss:// URL', fallback: undefined, help: 'set: Redis pub/sub between instances; unset: in-process bus' }),
  setting({ key: 'databaseUrl', env: 'DATABASE_URL', flag: '--database-url', parse: postgresUrl, expect: 'a postgres:// or postgresql:// URL', fallback: undefined, help: 'set: PostgreSQL (instances on many hosts); unset: the SQLite file' }),
  setting({ key: 'databaseTimeoutMs', env: 'DATABASE_TIMEOUT_MS', flag: '--database-timeout-ms', parse: int(100, 600_000), expect: 'an integer 100-600000', fallback: 5_000, help: 'PostgreSQL: a query past this many ms gives up and its request gets 503' }),
  setting({ key: 'heartbeatIntervalMs', env: 'HEARTBEAT_INTERVAL_MS', flag: '--heartbeat-interval-ms', parse: int(100, 3_600_000), expect: 'an integer 100-3600000', fallback: 15_000, help: 'SSE comment ping interval' }),
  setting({ key: 'allowRegistration', env: 'ALLOW_REGISTRATION', flag: '--allow-registration', parse: bool, expect: 'true or false', fallback: true, help: '`false` closes POST /api/auth/register' }),
  setting({ key: 'rateLimitMessagesPerMinute', env: 'RATE_LIMIT_MESSAGES_PER_MINUTE', flag: '--rate-limit-messages-per-minute', parse: int(0, 1_000_000), expect: 'an integer 0-1000000', fallback: 300, help: 'messages per user per minute; 0 turns the limit off' }),
  setting({ key: 'streamMaxBufferBytes', env: 'STREAM_MAX_BUFFER_BYTES', flag: '--stream-max-buffer-bytes', parse: int(1024, 1 << 30), expect: 'an integer 1024-1073741824', fallback: 1_048_576, help: 'unsent bytes a stream may queue before it is cut' }),
  setting({ key: 'logLevel', env: 'LOG_LEVEL', flag: '--log-level', parse: level, expect: 'debug, info, warn or error', fallback: 'info', help: 'debug, info, warn, error' }),
  setting({ key: 'rateLimitAuthPerMinute', env: 'RATE_LIMIT_AUTH_PER_MINUTE', flag: '--rate-limit-auth-per-minute', parse: int(0, 1_000_000), expect: 'an integer 0-1000000', fallback: 60, help: 'register, login and password-reset attempts per client address per minute; 0 turns the limit off' }),
  setting({ key: 'trustProxy', env: 'TRUST_PROXY', flag: '--trust-proxy', parse: bool, expect: 'true or false', fallback: false, help: 'take the client address from the first X-Forwarded-For hop' }),
  setting({ key: 'maxStreamsPerUser', env: 'MAX_STREAMS_PER_USER', flag: '--max-streams-per-user', parse: int(0, 1_000_000), expect: 'an integer 0-1000000', fallback: 100, help: 'open streams per user; 0: no limit' }),
  setting({ key: 'sessionTtlDays', env: 'SESSION_TTL_DAYS', flag: '--session-ttl-days', parse: int(1, 3650), expect: 'an integer 1-3650', fallback: 30, help: 'days a session lives without use' }),
  setting({ key: 'maxUploadBytes', env: 'MAX_UPLOAD_BYTES', flag: '--max-upload-bytes', parse: int(1, 2 ** 40), expect: 'an integer 1-1099511627776', fallback: 26_214_400, help: 'largest upload, in bytes' }),
  setting({ key: 'filesPath', env: 'FILES_PATH', flag: '--files-path', parse: text, expect: 'a folder path', fallback: undefined, help: 'where uploads are kept (unset: a files folder beside the database)' }),
  setting({ key: 'uploadSweepIntervalMs', env: 'UPLOAD_SWEEP_INTERVAL_MS', flag: '--upload-sweep-interval-ms', parse: int(100, 86_400_000), expect: 'an integer 100-86400000', fallback: 3_600_000, help: 'how often uploads left unattached for 24 hours are deleted' }),
  setting({ key: 'publicUrl', env: 'PUBLIC_URL', flag: '--public-url', parse: httpUrl, expect: 'an http:// or https:// URL', fallback: undefined, help: 'origin for links the server makes (invites, password resets, file urls in webhook payloads); unset: the request origin' }),
  setting({ key: 'pushAllowHttp', env: 'PUSH_ALLOW_HTTP', flag: '--push-allow-http', parse: bool, expect: 'true or false', fallback: false, help: 'accept http:// push endpoints (tests with a local push service)' }),
  setting({ key: 'pushAwayMs', env: 'PUSH_AWAY_MS', flag: '--push-away-ms', parse: int(0, 86_400_000), expect: 'an integer 0-86400000', fallback: 60_000, help: 'a user with no open stream for this long gets Web Push' }),
  setting({ key: 'webhookTimeoutMs', env: 'WEBHOOK_TIMEOUT_MS', flag: '--webhook-timeout-ms', parse: int(100, 600_000), expect: 'an integer 100-600000', fallback: 7_000, help: 'how long a webhook call or push may take' }),
  setting({ key: 'deliveryRetryBaseMs', env: 'DELIVERY_RETRY_BASE_MS', flag: '--delivery-retry-base-ms', parse: int(10, 3_600_000), expect: 'an integer 10-3600000', fallback: 1_000, help: 'first retry delay of a failed webhook call or push (doubling after)' }),
  setting({ key: 'deliveryGiveUpMs', env: 'DELIVERY_GIVE_UP_MS', flag: '--delivery-give-up-ms', parse: int(100, 604_800_000), expect: 'an integer 100-604800000', fallback: 3_600_000, help: 'a webhook call or push still failing this long after its message is dropped' }),
  setting({ key: 'deliveryConcurrency', env: 'DELIVERY_CONCURRENCY', flag: '--delivery-concurrency', parse: int(1, 1_000), expect: 'an integer 1-1000', fallback: 32, help: 'webhook calls and pushes in flight at once per instance' }),
]

/** A bad setting: main prints its message as one line and exits non-zero. */
export class ConfigError extends Error {}

export type ConfigRequest =
  | { kind: 'run'; config: Config }
  | { kind: 'help'; text: string }
  | { kind: 'version' }
  /** Asks a running server on this host for /healthz (container HEALTHCHECK, no curl needed). */
  | { kind: 'healthcheck'; config: Config }

/** Every setting at its default: the base that tests and tools override. */
export const defaultConfig = (): Config =>
  Object.fromEntries(SETTINGS.map((s) => [s.key, s.fallback])) as unknown as Config

export function parseConfig(argv: string[], env: Record<string, string | undefined>): ConfigRequest {
  if (argv.includes('--help') || argv.includes('-h')) return { kind: 'help', text: helpText() }
  if (argv.includes('--version') || argv.includes('-v')) return { kind: 'version' }
  const healthcheck = argv.includes('--healthcheck')

  const flags = parseFlags(argv.filter((a) => a !== '--healthcheck'))
  const config = {} as Record<keyof Config, unknown>
  for (const s of SETTINGS) {
    const fromFlag = flags.get(s.flag)
    const raw = fromFlag ?? env[s.env]
    if (raw === undefined || (fromFlag === undefined && raw === '')) {
      config[s.key] = s.fallback
      continue
    }
    const value = s.parse(raw)
    if (value === undefined) {
      const source = fromFlag !== undefined ? s.flag : s.env
      throw new ConfigError(`invalid ${source}=${JSON.stringify(raw)}: expected ${s.expect}`)
    }
    config[s.key] = value
  }
  return { kind: healthcheck ? 'healthcheck' : 'run', config: config as unknown as Config }
}

function parseFlags(argv: string[]): Map<string, string> {
  const known = new Set(SETTINGS.map((s) => s.flag))
  const flags = new Map<string, string>()
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const eq = arg.indexOf('=')
    const name = eq > 0 ? arg.slice(0, eq) : arg
    if (!known.has(name)) throw new ConfigError(`unknown option ${JSON.stringify(arg)} (see --help)`)
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i]
    if (value === undefined) throw new ConfigError(`option ${name} needs a value`)
    flags.set(name, value)
  }
  return flags
}

/** Creates the database folder and proves it writable, so a bad path fails at start-up. */
export function prepareDatabaseFolder(databasePath: string): void {
  if (databasePath === ':memory:') return
  const folder = dirname(resolve(databasePath))
  try {
    mkdirSync(folder, { recursive: true })
    accessSync(folder, constants.W_OK)
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'not writable'
    throw new ConfigError(`invalid DATABASE_PATH=${JSON.stringify(databasePath)}: folder ${folder} is not writable (${reason})`)
  }
}

export function helpText(): string {
  const rows = SETTINGS.map((s) => {
    const fallback = s.fallback === undefined ? 'unset' : String(s.fallback)
    return `  ${`${s.flag} <value>`.padEnd(40)}${s.env} (default ${fallback})\n  ${''.padEnd(40)}${s.help}`
  })
  return [
    'chat-server: a self-hosted team chat (HTTP API, SSE live updates, web client)',
    '',
    'Usage: chat-server [options]   (each option also reads the environment variable named; flags win)',
    '',
    ...rows,
    `  ${'--help'.padEnd(40)}print this help`,
    `  ${'--version'.padEnd(40)}print the version`,
    `  ${'--healthcheck'.padEnd(40)}exit 0 if the server on --port answers /healthz (for containers)`,
  ].join('\n')
}
