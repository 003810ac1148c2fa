import { ConfigError, parseConfig, SETTINGS, type Config } from '../config'

/**
 * What every command of the command line is made of, and how its arguments are read. A command
 * takes its own flags and positional arguments; every other `--flag` must be one of the
 * server's settings (same names, same environment variables, same one-line errors), so the
 * command works on exactly the database the server would open.
 */

/** A command's own flag: `value` names its argument (`--hours N`); without it, a switch. */
export interface FlagSpec {
  name: string
  value?: string
  help: string
}

export interface CommandInput {
  /** Positional arguments by name. */
  args: Record<string, string>
  /** Flags given: a switch's value is 'true'. */
  flags: Map<string, string>
  config: Config
  io: CliIo
}

export interface CommandSpec {
  /** The words that name it: ['users', 'add']. */
  path: string[]
  args: string[]
  flags: FlagSpec[]
  summary: string
  /** Extra help lines (what it prints, what to do with it). */
  details?: string[]
  /** The settings worth naming in its help (all of them are accepted). */
  settings: string[]
  /** Returns its lines of result (one, except for listings). */
  run(input: CommandInput): Promise<string[]>
}

export interface CliIo {
  out(line: string): void
  err(line: string): void
  /** The first line of standard input, without its line ending; null at end of input. */
  readLine(): Promise<string | null>
  env: Record<string, string | undefined>
}

/** A problem worth one line; exit 2 for a wrong invocation, 1 for a refusal or failure. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2 = 1) {
    super(message)
  }
}

export const usageError = (message: string) => new CliError(message, 2)

/** Splits argv (after the command's words) into the command's arguments and the server's settings. */
export function parseInvocation(spec: CommandSpec, argv: string[], env: Record<string, string | undefined>) {
  const own = new Map(spec.flags.map((f) => [`--${f.name}`, f]))
  const settingFlags = new Set(SETTINGS.map((s) => s.flag))
  const flags = new Map<string, string>()
  const positional: string[] = []
  const settings: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    const eq = arg.indexOf('=')
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg
    const inline = name === arg ? undefined : arg.slice(eq + 1)
    const flag = own.get(name)
    if (flag) {
      if (!flag.value) {
        if (inline !== undefined) throw usageError(`option ${name} takes no value`)
        flags.set(flag.name, 'true')
        continue
      }
      // The next word is the value unless it is an option itself (`--display-name=--x` for that).
      const value = inline ?? (argv[i + 1]?.startsWith('--') ? undefined : argv[++i])
      if (value === undefined) throw usageError(`option ${name} needs a value (${flag.value})`)
      flags.set(flag.name, value)
    } else if (settingFlags.has(name)) {
      settings.push(arg)
      if (inline === undefined && i + 1 < argv.length) settings.push(argv[++i]!)
    } else if (arg.startsWith('-') && arg !== '-') {
      throw usageError(`unknown option ${JSON.stringify(arg)} (see ${commandName(spec)} --help)`)
    } else {
      positional.push(arg)
    }
  }
  if (positional.length < spec.args.length) {
    throw usageError(`missing ${spec.args[positional.length]} (usage: ${usage(spec)})`)
  }
  if (positional.length > spec.args.length) {
    throw usageError(`unexpected argument ${JSON.stringify(positional[spec.args.length])} (usage: ${usage(spec)})`)
  }
  let config: Config
  try {
    const request = parseConfig(settings, env)
    if (request.kind !== 'run') throw new ConfigError('unexpected option')
    config = request.config
  } catch (error) {
    if (error instanceof ConfigError) throw usageError(error.message.replace('(see --help)', `(see ${commandName(spec)} --help)`))
    throw error
  }
  const args = Object.fromEntries(spec.args.map((name, i) => [name, positional[i]!]))
  return { args, flags, config }
}

export const commandName = (spec: CommandSpec) => `chat-server ${spec.path.join(' ')}`

export function usage(spec: CommandSpec): string {
  const flags = spec.flags.map((f) => `[--${f.name}${f.value ? ` ${f.value}` : ''}]`)
  return [commandName(spec), ...spec.args, ...flags].join(' ')
}

export function commandHelp(spec: CommandSpec): string {
  const row = (left: string, right: string) => `  ${left.padEnd(32)}${right}`
  const settings = SETTINGS.filter((s) => spec.settings.includes(s.key))
  return [
    `Usage: ${usage(spec)} [settings]`,
    '',
    spec.summary,
    ...(spec.details ? ['', ...spec.details] : []),
    ...(spec.flags.length ? ['', 'Options:', ...spec.flags.map((f) => row(`--${f.name}${f.value ? ` ${f.value}` : ''}`, f.help))] : []),
    '',
    'Settings (as for the server; each also reads its environment variable, flags win):',
    ...settings.map((s) => row(`${s.flag} <value>`, `${s.env}: ${s.help}`)),
    row('...', 'every other server setting is accepted too (chat-server --help)'),
    '',
    'Prints its result on standard output and exits 0; on a problem, prints one line on standard',
    'error and exits 1 (2 for a wrong invocation).',
  ].join('\n')
}
