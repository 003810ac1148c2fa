import { accessSync, constants, mkdirSync } from 'node:fs'
import { readdir, rename, rm, stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { ConfigError, type Config } from '../config'

/**
 * Uploads on disk, under one folder (FILES_PATH): `<2 hex>/<32 hex>` per file, names the server
 * makes, so nothing a user sends ever becomes part of a path. Bytes arrive in `incoming/` and are
 * renamed into place once whole (same file system, so the rename is atomic): a half-written file
 * never has a final name. Several instances on one host share the folder as they share the
 * database; every operation here is safe to race (a second removal finds nothing).
 */

const INCOMING = 'incoming'
const KEY = /^[0-9a-f]{32}$/

/** FILES_PATH, or a `files` folder beside the database. */
export function filesFolder(config: Pick<Config, 'filesPath' | 'databasePath'>): string {
  if (config.filesPath !== undefined) return resolve(config.filesPath)
  return join(dirname(resolve(config.databasePath)), 'files')
}

export interface FileStorage {
  readonly root: string
  /** A fresh path in the incoming folder for an upload being received. */
  incomingPath(): string
  /** Moves a received file into place under a new storage key, and returns the key. */
  place(incoming: string): Promise<string>
  /** Where a stored file is. */
  pathOf(storageKey: string): string
  /** Removes a stored file or an incoming one; gone already is fine. */
  remove(storageKey: string): Promise<void>
  discard(incoming: string): Promise<void>
  /** Stored files and incoming ones last changed before `before` (epoch ms): leftovers of a crash. */
  leftovers(before: number): Promise<{ stored: string[]; incoming: string[] }>
}

/** Creates the folders and proves them writable, so a bad FILES_PATH fails at start-up. */
export function createFileStorage(root: string): FileStorage {
  try {
    mkdirSync(join(root, INCOMING), { recursive: true })
    accessSync(root, constants.W_OK)
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'not writable'
    throw new ConfigError(`invalid FILES_PATH=${JSON.stringify(root)}: folder is not writable (${reason})`)
  }
  const pathOf = (key: string) => {
    if (!KEY.test(key)) throw new Error(`not a storage key: ${JSON.stringify(key)}`)
    return join(root, key.slice(0, 2), key)
  }

  return {
    root,
    incomingPath: () => join(root, INCOMING, `${crypto.randomUUID()}.part`),
    async place(incoming) {
      const key = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('hex')
      const path = pathOf(key)
      mkdirSync(dirname(path), { recursive: true })
      await rename(incoming, path)
      return key
    },
    pathOf,
    async remove(key) {
      await rm(pathOf(key), { force: true })
    },
    async discard(incoming) {
      await rm(incoming, { force: true })
    },
    async leftovers(before) {
      const old = async (path: string) => (await stat(path).catch(() => null))?.mtimeMs ?? Infinity
      const stored: string[] = []
      const incoming: string[] = []
      for (const entry of await readdir(root, { withFileTypes: true })) {
        if (!entry.isDirectory()) continue
        const folder = join(root, entry.name)
        for (const name of await readdir(folder).catch(() => [])) {
          const path = join(folder, name)
          if ((await old(path)) >= before) continue
          if (entry.name === INCOMING) incoming.push(path)
          else if (KEY.test(name) && name.startsWith(entry.name)) stored.push(name)
        }
      }
      return { stored, incoming }
    },
  }
}
