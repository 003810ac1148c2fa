import type { Database } from 'bun:sqlite'
import { attachmentOf, UnattachableFilesError, type AttachmentRecord, type FileRecord } from '../store'
import { bounded, retryBusy, returning, statement } from './database'
import type { FileStore } from '../parts'

/** What the message part writes through, inside its post transaction. */
export interface FileWriter {
  /**
   * The files as the new message will carry them, in the order given: each must be an upload
   * of senderId in roomId that no message took yet, else UnattachableFilesError.
   */
  claimable(roomId: number, senderId: number, ids: number[]): AttachmentRecord[]
  /** Gives the files to the message (after claimable, in the same transaction). */
  attach(messageId: number, ids: number[]): void
}

const FILE = `id, room_id AS roomId, uploader_id AS uploaderId, message_id AS messageId, name,
  content_type AS contentType, size, width, height, storage_key AS storageKey, created_at AS createdAt`

export function createFileStore(db: Database): FileStore & { writer: FileWriter } {
  const q = <T>(sql: string) => statement<T>(db, sql)
  const insertFile = q<FileRecord>(
    `INSERT INTO files (room_id, uploader_id, name, content_type, size, width, height, storage_key, created_at)
     SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9 WHERE EXISTS (SELECT 1 FROM participants WHERE room_id = ?1 AND user_id = ?2)
     RETURNING ${FILE}`,
  )
  const fileById = q<FileRecord>(`SELECT ${FILE} FROM files WHERE id = ?`)
  const unattachedOf = q<FileRecord>(
    `SELECT ${FILE} FROM files WHERE id IN (SELECT value FROM json_each(?1)) AND room_id = ?2 AND uploader_id = ?3 AND message_id IS NULL`,
  )
  const attach = q(`UPDATE files SET message_id = ?1 WHERE id IN (SELECT value FROM json_each(?2))`)
  // The trigger on files queues each deleted row's disk copy in file_removals.
  const deleteUnattached = q(`DELETE FROM files WHERE message_id IS NULL AND created_at < ?`)
  const pending = q<{ key: string }>(`SELECT storage_key AS key FROM file_removals LIMIT ?`)
  const forget = q(`DELETE FROM file_removals WHERE storage_key IN (SELECT value FROM json_each(?))`)
  const known = q<{ key: string }>(`SELECT storage_key AS key FROM files WHERE storage_key IN (SELECT value FROM json_each(?))`)

  return {
    writer: {
      claimable(roomId, senderId, ids) {
        const found = new Map(unattachedOf.all(JSON.stringify(ids), roomId, senderId).map((f) => [f.id, f]))
        if (found.size !== ids.length || new Set(ids).size !== ids.length) throw new UnattachableFilesError('not the sender\'s unattached uploads in this room')
        return ids.map((id) => attachmentOf(found.get(id)!))
      },
      attach: (messageId, ids) => void attach.run(messageId, JSON.stringify(ids)),
    },
    async createFile(f) {
      return retryBusy(() => returning(insertFile, f.roomId, f.uploaderId, f.name, f.contentType, f.size, f.width, f.height, f.storageKey, f.createdAt))
    },
    async getFile(id) {
      return fileById.get(id)
    },
    async deleteUnattachedFiles(before) {
      return (await retryBusy(() => deleteUnattached.run(before))).changes
    },
    async pendingFileRemovals(limit) {
      return pending.all(bounded(limit)).map((r) => r.key)
    },
    async fileRemoved(storageKeys) {
      await retryBusy(() => forget.run(JSON.stringify(storageKeys)))
    },
    async knownStorageKeys(storageKeys) {
      return new Set(known.all(JSON.stringify(storageKeys)).map((r) => r.key))
    },
  }
}
