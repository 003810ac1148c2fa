import type { SQL } from 'bun'
import type { AttachmentRecord } from '../store'

/**
 * What one part of the PostgreSQL store writes through another's, inside the caller's
 * transaction (`tx`): so a post and the files it takes commit together.
 */
export interface FileWriter {
  /**
   * The files as the new message will carry them, in the order given: each must be an upload
   * of senderId in roomId that no message took yet (else UnattachableFilesError). The rows are
   * locked (FOR UPDATE) until the transaction ends, so two posts cannot both take a file.
   */
  claimable(tx: SQL, roomId: number, senderId: number, ids: number[]): Promise<AttachmentRecord[]>
  /** Gives the files to the message (after claimable, in the same transaction). */
  attach(tx: SQL, messageId: number, ids: number[]): Promise<void>
}
