import type { SQL } from 'bun'
import { attachmentOf, UnattachableFilesError, type FileRecord } from '../store'
import { bounded, num, numOrNull, sqlState, type Database } from './database'
import type { FileWriter } from './writers'
import type { FileStore } from '../parts'

type Row = Record<string, unknown>

const fileColumns = (sql: SQL) =>
  sql`id, room_id AS "roomId", uploader_id AS "uploaderId", message_id AS "messageId", name, content_type AS "contentType",
      size, width, height, storage_key AS "storageKey", created_at AS "createdAt"`

const toFile = (row: Row): FileRecord => ({
  id: num(row.id),
  roomId: num(row.roomId),
  uploaderId: num(row.uploaderId),
  messageId: numOrNull(row.messageId),
  name: row.name as string,
  contentType: row.contentType as string,
  size: num(row.size),
  width: numOrNull(row.width),
  height: numOrNull(row.height),
  storageKey: row.storageKey as string,
  createdAt: num(row.createdAt),
})

/** Storage keys as text[]; anything else a caller passed never reaches a query. */
const keysOf = (storageKeys: string[]) => storageKeys.filter((key) => typeof key === 'string')

/**
 * Uploads on PostgreSQL. Where the SQLite store relied on its single writer: an upload racing
 * its room's deletion fails the foreign key (which waits for the deletion to commit) and
 * records nothing; a post locks the files it claims (FOR UPDATE), so of two posts racing for
 * a file the second finds it taken.
 */
export function createFileStore(db: Database): FileStore & { writer: FileWriter } {
  return {
    writer: {
      async claimable(tx, roomId, senderId, ids) {
        if (new Set(ids).size !== ids.length || !ids.every(Number.isSafeInteger)) throw new UnattachableFilesError('not the sender\'s unattached uploads in this room')
        // READ COMMITTED rechecks the WHERE on a row another post attached while we waited for
        // its lock: that row drops out, and the count says so.
        const rows: Row[] = await tx`
          SELECT ${fileColumns(tx)} FROM files
          WHERE id = ANY(${ids}::int8[]) AND room_id = ${roomId} AND uploader_id = ${senderId} AND message_id IS NULL
          ORDER BY id FOR UPDATE`
        if (rows.length !== ids.length) throw new UnattachableFilesError('not the sender\'s unattached uploads in this room')
        const found = new Map(rows.map((row) => [num(row.id), toFile(row)]))
        return ids.map((id) => attachmentOf(found.get(id)!))
      },
      async attach(tx, messageId, ids) {
        await tx`UPDATE files SET message_id = ${messageId} WHERE id = ANY(${ids}::int8[])`
      },
    },

    async createFile(f) {
      try {
        const rows: Row[] = await db.run(
          (sql) => sql`
            INSERT INTO files (room_id, uploader_id, name, content_type, size, width, height, storage_key, created_at)
            SELECT ${f.roomId}, ${f.uploaderId}, ${f.name}, ${f.contentType}, ${f.size}, ${f.width}, ${f.height}, ${f.storageKey}, ${f.createdAt}
            FROM participants WHERE room_id = ${f.roomId} AND user_id = ${f.uploaderId}
            RETURNING ${fileColumns(sql)}`,
        )
        return rows[0] ? toFile(rows[0]) : null
      } catch (error) {
        // The room was deleted between the participant check and the insert's foreign key.
        if (sqlState(error) === '23503') return null
        throw error
      }
    },

    async getFile(id) {
      if (!Number.isSafeInteger(id)) return null
      const rows: Row[] = await db.run((sql) => sql`SELECT ${fileColumns(sql)} FROM files WHERE id = ${id}`)
      return rows[0] ? toFile(rows[0]) : null
    },

    async deleteUnattachedFiles(before) {
      // The trigger on files queues each deleted row's disk copy in file_removals.
      const result = await db.run((sql) => sql`DELETE FROM files WHERE message_id IS NULL AND created_at < ${before}`)
      return result.count
    },

    async pendingFileRemovals(limit) {
      const rows: Row[] = await db.run((sql) => sql`SELECT storage_key FROM file_removals ORDER BY queued LIMIT ${bounded(limit)}`)
      return rows.map((row) => row.storage_key as string)
    },

    async fileRemoved(storageKeys) {
      const keys = keysOf(storageKeys)
      if (keys.length === 0) return
      await db.run((sql) => sql`DELETE FROM file_removals WHERE storage_key = ANY(${keys}::text[])`)
    },

    async knownStorageKeys(storageKeys) {
      const keys = keysOf(storageKeys)
      if (keys.length === 0) return new Set()
      const rows: Row[] = await db.run((sql) => sql`SELECT storage_key FROM files WHERE storage_key = ANY(${keys}::text[])`)
      return new Set(rows.map((row) => row.storage_key as string))
    },
  }
}
