import { ConfigError } from '../config'
import { SchemaTooNewError } from '../store/migrations'
import { StoreUnavailableError } from '../store/store'
import { backupCommand } from './backup'
import { CliError, commandHelp, parseInvocation, usage, usageError, type CliIo, type CommandSpec } from './command'
import { copyToPostgresCommand } from './copy-to-postgres'
import { inviteCommand } from './invite'
import { usersCommands } from './users'

/**
 * The binary's command line: `chat-server <command> ...` administers a database (also while a
 * server runs on it) instead of serving it. main.ts hands over when the first argument is one
 * of these words.
 */
const COMMANDS: CommandSpec[] = [...usersCommands, inviteCommand, backupCommand, copyToPostgresCommand]

const GROUPS = new Set(COMMANDS.map((c) => c.path[0]!))

export const isCliCommand = (word: string | undefined): boolean => word !== undefined && GROUPS.has(word)

/** The commands, for the server's --help. */
export function commandsOverview(): string {
  return ['Commands (chat-server <command> --help for each):', ...COMMANDS.map((c) => `  ${usage(c).slice('chat-server '.length)}\n      ${c.summary}`)].join('\n')
}

/** Runs one command; returns the exit code. Never throws: every problem becomes one line. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const wantsHelp = argv.includes('--help') || argv.includes('-h')
  try {
    const spec = findCommand(argv)
    if (!spec) {
      // A group word alone or with an unknown sub-command: say what it offers.
      const group = COMMANDS.filter((c) => c.path[0] === argv[0])
      const overview = group.map((c) => `  ${usage(c)}`).join('\n')
      if (wantsHelp) {
        io.out(`Commands of chat-server ${argv[0]}:\n${overview}`)
        return 0
      }
      const asked = argv[1] === undefined || argv[1].startsWith('-') ? 'a command' : `a command, not ${JSON.stringify(argv[1])}`
      throw usageError(`${argv[0]} needs ${asked}: ${group.map((c) => c.path[1]).join(', ')} (see chat-server ${argv[0]} --help)`)
    }
    if (wantsHelp) {
      io.out(commandHelp(spec))
      return 0
    }
    const { args, flags, config } = parseInvocation(spec, argv.slice(spec.path.length), io.env)
    for (const line of await spec.run({ args, flags, config, io })) io.out(line)
    return 0
  } catch (error) {
    io.err(`chat-server: ${describe(error)}`)
    return error instanceof CliError ? error.exitCode : 1
  }
}

function findCommand(argv: string[]): CommandSpec | undefined {
  return COMMANDS.find((c) => c.path.every((word, i) => argv[i] === word))
}

function describe(error: unknown): string {
  if (error instanceof CliError || error instanceof ConfigError || error instanceof SchemaTooNewError) return oneLine(error.message)
  if (error instanceof StoreUnavailableError) return oneLine(error.message)
  const code = (error as { code?: string })?.code
  const message = (error as Error)?.message ?? String(error)
  if (code?.startsWith('SQLITE_BUSY')) return 'the database stayed locked by another process; try again'
  return oneLine(`failed: ${message}`)
}

const oneLine = (text: string) => text.replace(/\s*\n\s*/g, ' ')

/** The process's own streams and environment, for main.ts. */
export function terminalIo(env: Record<string, string | undefined>): CliIo {
  return {
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    env,
    async readLine() {
      const decoder = new TextDecoder()
      let text = ''
      for await (const chunk of Bun.stdin.stream()) {
        text += decoder.decode(chunk, { stream: true })
        const end = text.indexOf('\n')
        if (end >= 0) return text.slice(0, end).replace(/\r$/, '')
      }
      return text === '' ? null : text.replace(/\r$/, '')
    },
  }
}
