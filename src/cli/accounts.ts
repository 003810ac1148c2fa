import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { createMemoryBus } from '../bus/memory'
import { prepareDatabaseFolder, type Config } from '../config'
import { openStore } from '../deps'
import { AppError } from '../errors'
import { createLogger } from '../log'
import { createAdminService, type AdminService } from '../modules/admin/service'
import { createAuthService } from '../modules/auth/service'
import type { UserRecord } from '../store/store'
import { CliError } from './command'

/**
 * The administration service over the configured database (the SQLite file, or PostgreSQL with
 * DATABASE_URL: openStore picks, as for the server), as the server builds it, for one command. Its bus is in-process and has no listeners: a running server learns what a command
 * ended or changed from the store's revocation log, which it reads every second.
 */
export async function withAdmin<T>(config: Config, options: { create: boolean }, work: (admin: AdminService) => Promise<T>): Promise<T> {
  if (config.databaseUrl === undefined) {
    const path = resolve(config.databasePath)
    if (!options.create && !existsSync(path)) throw new CliError(`no database at ${path} (set DATABASE_PATH or --database-path)`)
    prepareDatabaseFolder(config.databasePath)
  }
  // Only errors are logged (on stderr): standard output is the command's result.
  const store = await openStore(config, createLogger('error'))
  try {
    const bus = createMemoryBus()
    const auth = createAuthService({
      store,
      bus,
      allowRegistration: config.allowRegistration,
      authAttemptsPerMinute: 0,
      sessionTtlDays: config.sessionTtlDays,
      cacheSessions: false,
    })
    return await work(createAdminService({ store, auth }))
  } catch (error) {
    // The service's refusals are written for an API client; here they are the one line.
    if (error instanceof AppError) throw new CliError(error.message)
    throw error
  } finally {
    await store.close()
  }
}

/** The user named NAME, or the one-line refusal. */
export async function userNamed(admin: AdminService, name: string): Promise<UserRecord> {
  const user = await admin.findUserByUsername(name)
  if (!user) throw new CliError(`no user named ${JSON.stringify(name)}`)
  return user
}

/** PUBLIC_URL, else where this configuration's server listens (the CLI has no request to ask). */
export function linkOrigin(config: Config): string {
  if (config.publicUrl) return config.publicUrl
  const host = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host
  return `http://${host.includes(':') ? `[${host}]` : host}:${config.port}`
}
