import { Database } from 'bun:sqlite'
import { existsSync, statSync } from 'node:fs'
import { copyFile, mkdir, open, rename, rm, stat } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { filesFolder } from '../files/storage'
import { CliError, type CommandSpec } from './command'

/**
 * `chat-server backup FILE`: a consistent copy of a live database and of its uploads.
 *
 * The database is copied with `VACUUM INTO` from a connection of its own: one read transaction
 * in WAL mode, so the copy is the database as of one commit, and the server's writers never
 * wait for it. Uploads go to a plain folder `FILE.files/`, laid out as FILES_PATH is, so that
 * restoring is two copies with no tool (a tar would need one, and gains nothing on bytes that
 * are mostly compressed already).
 *
 * The copy holds exactly the files its database references. An upload's file is on disk before
 * its row commits, and a file leaves the disk only after its row's deletion commits (the removal
 * queue of files/sweep.ts), so every file of the snapshot exists at the snapshot's moment; one
 * can still go between that moment and its copy, when its message is deleted meanwhile. Then the
 * snapshot is taken again (files never change, so the ones copied stay) until one snapshot has
 * all its files. Both land under their final names only when whole, the database last: a FILE
 * that exists is a complete backup.
 */

/** Snapshots taken at most when messages with files keep being deleted during the copy. */
const MAX_SNAPSHOTS = 5
const COPIES_AT_ONCE = 8

export interface BackupResult {
  target: string
  filesTarget: string
  databaseBytes: number
  files: number
  fileBytes: number
  /** Referenced by the database but absent from FILES_PATH before the backup began. */
  missingFiles: number
  snapshots: number
  ms: number
}

export async function takeBackup(options: { databasePath: string; filesRoot: string; target: string }): Promise<BackupResult> {
  const started = performance.now()
  const databasePath = resolve(options.databasePath)
  const target = resolve(options.target)
  const filesTarget = `${target}.files`
  if (!existsSync(databasePath)) throw new CliError(`no database at ${databasePath} (set DATABASE_PATH or --database-path)`)
  for (const path of [target, filesTarget]) {
    if (existsSync(path)) throw new CliError(`${path} already exists: back up to a new name`)
  }
  if (!statSync(dirname(target), { throwIfNoEntry: false })?.isDirectory()) throw new CliError(`folder ${dirname(target)} does not exist`)

  const partial = `${target}.${process.pid}.partial`
  const partialFiles = `${filesTarget}.${process.pid}.partial`
  const source = new Database(databasePath, { readwrite: true, create: false })
  try {
    // The server holds the write lock only for short commits; wait for one rather than fail.
    source.run('PRAGMA busy_timeout = 5000')
    await mkdir(partialFiles)
    const copied = new Map<string, number>()
    const missing = new Set<string>()
    let keys: string[] = []
    let snapshots = 0
    for (;;) {
      snapshots++
      await rm(partial, { force: true })
      source.run('VACUUM INTO ?', [partial])
      keys = referencedFiles(partial)
      const gone = await copyFiles(keys.filter((key) => !copied.has(key) && !missing.has(key)), options.filesRoot, partialFiles, copied)
      // A file missing in two snapshots in a row was not taken by a deletion during the copy.
      if (gone.length === 0) break
      if (snapshots === MAX_SNAPSHOTS) throw new CliError(`files kept being deleted during the backup (${MAX_SNAPSHOTS} snapshots); try again`)
      for (const key of gone) missing.add(key)
    }
    const kept = new Set(keys)
    for (const key of copied.keys()) {
      if (kept.has(key)) continue
      await rm(join(partialFiles, key.slice(0, 2), key))
      copied.delete(key)
    }
    const stillMissing = keys.filter((key) => missing.has(key)).length

    // VACUUM INTO does not sync what it wrote; a backup must survive the power going.
    await syncFile(partial)
    await rename(partialFiles, filesTarget)
    await rename(partial, target)
    await syncFile(dirname(target))
    return {
      target,
      filesTarget,
      databaseBytes: (await stat(target)).size,
      files: copied.size,
      fileBytes: [...copied.values()].reduce((a, b) => a + b, 0),
      missingFiles: stillMissing,
      snapshots,
      ms: performance.now() - started,
    }
  } finally {
    source.close()
    await rm(partial, { force: true })
    await rm(partialFiles, { recursive: true, force: true })
  }
}

/** The storage keys the snapshot's files table holds (none before the files migration). */
function referencedFiles(snapshotPath: string): string[] {
  const db = new Database(snapshotPath, { readonly: true })
  try {
    const hasFiles = db.query(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'files'`).get() !== null
    if (!hasFiles) return []
    return (db.query('SELECT storage_key AS key FROM files').all() as { key: string }[]).map((row) => row.key)
  } finally {
    db.close()
  }
}

/** Copies each key's file (synced) and records its size; returns the keys not found. */
async function copyFiles(keys: string[], from: string, to: string, copied: Map<string, number>): Promise<string[]> {
  const gone: string[] = []
  let next = 0
  const worker = async () => {
    while (next < keys.length) {
      const key = keys[next++]!
      const source = join(from, key.slice(0, 2), key)
      const destination = join(to, key.slice(0, 2), key)
      await mkdir(dirname(destination), { recursive: true })
      try {
        await copyFile(source, destination)
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
        gone.push(key)
        continue
      }
      copied.set(key, await syncFile(destination))
    }
  }
  await Promise.all(Array.from({ length: COPIES_AT_ONCE }, worker))
  return gone
}

/** fsyncs a file or folder; returns its size. */
async function syncFile(path: string): Promise<number> {
  const handle = await open(path, 'r')
  try {
    await handle.sync()
    return (await handle.stat()).size
  } finally {
    await handle.close()
  }
}

const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MiB`

export const backupCommand: CommandSpec = {
  path: ['backup'],
  args: ['FILE'],
  flags: [],
  settings: ['databasePath', 'filesPath'],
  summary: 'Copies the database and its uploads consistently, while the server runs',
  details: [
    'The database goes to FILE, the uploads to a folder FILE.files/.',
    'FILE and FILE.files/ must not exist; they appear only once complete. FILE.files/ has the',
    'layout of FILES_PATH. To restore: stop the server, copy FILE over DATABASE_PATH (and delete',
    'DATABASE_PATH-wal and DATABASE_PATH-shm if present), replace FILES_PATH by a copy of',
    'FILE.files/, start the server.',
    'The SQLite file only: on PostgreSQL (DATABASE_URL) use pg_dump, and copy FILES_PATH.',
  ],
  async run({ args, config }) {
    if (config.databaseUrl !== undefined) {
      throw new CliError('backup copies the SQLite file only: with DATABASE_URL set, back up PostgreSQL with pg_dump (and FILES_PATH with any file copy)')
    }
    const result = await takeBackup({ databasePath: config.databasePath, filesRoot: filesFolder(config), target: args.FILE! })
    const missing = result.missingFiles ? `; ${result.missingFiles} referenced file(s) were already missing from ${filesFolder(config)}` : ''
    return [
      `backup written: ${result.target} (${mib(result.databaseBytes)}) and ${result.filesTarget}/ (${result.files} file${result.files === 1 ? '' : 's'}, ${mib(result.fileBytes)}) in ${(result.ms / 1000).toFixed(1)} s${missing}`,
    ]
  },
}
