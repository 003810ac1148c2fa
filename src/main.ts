import { createApp } from './app'
import { commandsOverview, isCliCommand, runCli, terminalIo } from './cli'
import { ConfigError, parseConfig, prepareDatabaseFolder } from './config'
import { createDeps } from './deps'
import { serverOptions } from './http/server-options'
import { createLogger } from './log'
import { SchemaTooNewError } from './store/migrations'
import { VERSION } from './version'

/** The only file with side effects: configuration -> dependencies -> app -> listen -> signals. */
// The log is one JSON object per line: a library's deprecation notice (web-push's url.parse)
// would print two lines of plain text into it, and says nothing an admin can act on.
process.noDeprecation = true

async function main() {
  const argv = process.argv.slice(2)
  // `chat-server users ...`, `backup ...`: administer the database instead of serving it.
  if (isCliCommand(argv[0])) return process.exit(await runCli(argv, terminalIo(process.env)))
  const request = parseConfig(argv, process.env)
  if (request.kind === 'help') return console.log(`${request.text}\n\n${commandsOverview()}`)
  if (request.kind === 'version') return console.log(VERSION)
  if (request.kind === 'healthcheck') return healthcheck(request.config.port)
  const { config } = request
  prepareDatabaseFolder(config.databasePath)

  const log = createLogger(config.logLevel)
  // A background task whose store call failed (PostgreSQL cut off) is logged, never the end
  // of the process or of its exit code.
  process.on('unhandledRejection', (error) => log.error('unhandled rejection', { error: String(error) }))
  const deps = await createDeps(config, log)
  const app = createApp(deps).listen(serverOptions(config))
  const server = app.server!

  let stopping = false
  async function shutdown(signal: string) {
    if (stopping) return
    stopping = true
    log.info('shutting down', { signal })
    const deadline = setTimeout(() => process.exit(0), 9000)
    // End the streams first (their final chunk goes out), then let in-flight requests finish.
    deps.streams.endAll()
    await server.stop(false)
    await deps.close()
    clearTimeout(deadline)
    process.exit(0)
  }
  process.on('SIGTERM', () => void shutdown('SIGTERM'))
  process.on('SIGINT', () => void shutdown('SIGINT'))
  // Only now: a supervisor (or a test) may signal as soon as it reads this line, and a signal
  // before the handlers were in place would kill the process instead of stopping it cleanly.
  console.log(`chat-server ${VERSION} listening on http://${config.host}:${server.port} (database ${databaseLabel(config)}, bus ${config.redisUrl ? 'redis' : 'in-process'})`)
}

async function healthcheck(port: number) {
  const ok = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(2000) })
    .then((res) => res.ok)
    .catch(() => false)
  process.exit(ok ? 0 : 1)
}

main().catch((error) => {
  if (error instanceof ConfigError || error instanceof SchemaTooNewError) {
    console.error(`chat-server: ${error.message}`)
  } else {
    const code = (error as { code?: string })?.code
    console.error(`chat-server: failed to start: ${code === 'EADDRINUSE' ? 'the port is already in use' : (error as Error)?.message ?? String(error)}`)
  }
  process.exit(1)
})

/** Where the data lives, for the start-up line: a PostgreSQL URL without its password. */
function databaseLabel(config: { databasePath: string; databaseUrl: string | undefined }): string {
  if (config.databaseUrl === undefined) return config.databasePath
  const url = new URL(config.databaseUrl)
  if (url.password) url.password = '***'
  return url.toString()
}
