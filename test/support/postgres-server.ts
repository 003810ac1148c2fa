/**
 * A throw-away PostgreSQL cluster of the test's own: initdb in a temp folder, run as the
 * postgres user (PostgreSQL refuses to run as root), listening on one given address and a free
 * port, no durability (nothing here must survive a crash), trust for every client. Stopped by
 * pg_ctl, or by its postmaster's PID when that fails; its folder is removed.
 *
 * For tests that need PostgreSQL on an address other than the machine's own 127.0.0.1:5432
 * (test hosts in network namespaces), and that cut its links without disturbing anybody else.
 */
import { SQL } from 'bun'
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { freePortOn } from './netns'
import { run } from './run-command'

const START_DEADLINE_S = 15

export interface TestPostgres {
  host: string
  port: number
  /** A URL for `database` as user postgres. */
  url(database: string): string
  createDatabase(name: string): Promise<void>
  dropDatabase(name: string): Promise<void>
  stop(): Promise<void>
}

/** The newest installed PostgreSQL's bin folder (Debian's layout), or null. */
export function findPostgresBin(): string | null {
  const root = '/usr/lib/postgresql'
  if (!existsSync(root)) return null
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a))
  return versions[0] ? join(root, versions[0], 'bin') : null
}

/** Its folder's name: the PID tells a later run whether the run that made it is gone. */
const DIR_PREFIX = 'chat-postgres-'

const asPostgres = (argv: string[]) => (userInfo().username === 'postgres' ? argv : ['runuser', '-u', 'postgres', '--', ...argv])

/** Stops the cluster in `dir` (pg_ctl; its postmaster's PID if that fails) and removes the folder. */
async function stopCluster(bin: string, dir: string) {
  const data = join(dir, 'data')
  const stopped = await run(asPostgres([join(bin, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', '-t', '10', 'stop']), { allowFailure: true })
  const pidFile = join(data, 'postmaster.pid')
  if (stopped.code !== 0 && existsSync(pidFile)) {
    // Only a postmaster of this folder, never whatever process took over a stale PID.
    const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0])
    const cmdline = pid > 0 && existsSync(`/proc/${pid}/cmdline`) ? readFileSync(`/proc/${pid}/cmdline`, 'utf8') : ''
    if (cmdline.includes(data)) process.kill(pid, 'SIGKILL')
  }
  rmSync(dir, { recursive: true, force: true })
}

/**
 * pg_ctl runs the cluster as a daemon, so a test run killed before its cleanup leaves it running:
 * the next run stops the clusters of runs whose process is gone.
 */
async function stopLeftovers(bin: string) {
  for (const name of readdirSync(tmpdir())) {
    const pid = new RegExp(`^${DIR_PREFIX}(\\d+)-`).exec(name)?.[1]
    if (pid && !existsSync(`/proc/${pid}`)) await stopCluster(bin, join(tmpdir(), name))
  }
}

export async function startPostgres(host: string): Promise<TestPostgres> {
  const bin = findPostgresBin()
  if (!bin) throw new Error('no PostgreSQL server under /usr/lib/postgresql: install Debian\'s postgresql (bash scripts/install-test-deps.sh)')
  await stopLeftovers(bin)
  const dir = mkdtempSync(join(tmpdir(), `${DIR_PREFIX}${process.pid}-`))
  const data = join(dir, 'data')
  const port = await freePortOn(host)
  const owner = Bun.spawnSync(['id', '-u', 'postgres']).stdout.toString().trim()
  const group = Bun.spawnSync(['id', '-g', 'postgres']).stdout.toString().trim()
  if (owner && userInfo().uid === 0) chownSync(dir, Number(owner), Number(group))

  const stop = () => stopCluster(bin, dir)
  try {
    await run(asPostgres([join(bin, 'initdb'), '-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale', 'C.UTF-8', '--no-sync', '--no-instructions']))
    const options = [
      `-c listen_addresses=${host}`,
      `-p ${port}`,
      `-c unix_socket_directories=${dir}`,
      '-c fsync=off -c synchronous_commit=off -c full_page_writes=off',
      `-c log_destination=stderr -c logging_collector=off`,
    ].join(' ')
    // Every address may connect without a password: the cluster lives only on the test hosts' subnet.
    await Bun.write(join(data, 'pg_hba.conf'), 'local all all trust\nhost all all 0.0.0.0/0 trust\n')
    await run(asPostgres([join(bin, 'pg_ctl'), '-D', data, '-o', options, '-l', join(dir, 'log'), '-w', '-t', String(START_DEADLINE_S), 'start']))
  } catch (error) {
    const log = existsSync(join(dir, 'log')) ? readFileSync(join(dir, 'log'), 'utf8').slice(-2_000) : ''
    await stop()
    throw new Error(`${(error as Error).message}\n${log}`)
  }

  const admin = () => new SQL({ hostname: host, port, username: 'postgres', database: 'postgres', max: 1 })
  const onAdmin = async (statement: string) => {
    const sql = admin()
    try {
      await sql.unsafe(statement)
    } finally {
      await sql.close()
    }
  }
  return {
    host,
    port,
    url: (database) => `postgres://postgres@${host}:${port}/${database}`,
    createDatabase: (name) => onAdmin(`CREATE DATABASE "${name}"`),
    dropDatabase: (name) => onAdmin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`),
    stop,
  }
}
