import { AppError, notFound } from '../../errors'
import { HEAD_BYTES, imageSize } from '../../files/image-size'
import type { FileStorage } from '../../files/storage'
import type { FileRecord, Store } from '../../store/store'
import { toAttachment, type Attachment } from '../messages/model'
import type { RoomService } from '../rooms/service'
import { cleanFileName, declaredType } from './file-types'
import { MULTIPART_OVERHEAD_BYTES, receiveFile } from './receive'

/** The body limit of the upload route: the largest file and its multipart framing. */
export const uploadBodyLimit = (maxUploadBytes: number) => maxUploadBytes + MULTIPART_OVERHEAD_BYTES

export interface AttachmentServiceOptions {
  store: Store
  rooms: RoomService
  storage: FileStorage
  maxUploadBytes: number
  now?: () => number
}

export function createAttachmentService({ store, rooms, storage, maxUploadBytes, now = Date.now }: AttachmentServiceOptions) {
  /**
   * Who may read a file: whoever may read its room once it is posted; before that, only its
   * uploader (an upload not sent yet is nobody else's business). Everyone else, like an
   * unknown id, gets the same 404.
   */
  async function mayRead(file: FileRecord, userId: number): Promise<boolean> {
    if (file.messageId === null) return file.uploaderId === userId
    try {
      await rooms.readable(file.roomId, userId)
      return true
    } catch (error) {
      if (error instanceof AppError && error.code === 'not_found') return false
      throw error
    }
  }

  return {
    /** Receives one file into a room the caller is in; the body is read only after that check. */
    async upload(roomId: number, userId: number, request: Request): Promise<Attachment> {
      await rooms.participating(roomId, userId)
      const received = await receiveFile(request, {
        destination: storage.incomingPath,
        maxFileBytes: maxUploadBytes,
        maxBodyBytes: uploadBodyLimit(maxUploadBytes),
        discard: storage.discard,
      })
      let storageKey: string | undefined
      try {
        const image = imageSize(await Bun.file(received.path).slice(0, HEAD_BYTES).bytes())
        storageKey = await storage.place(received.path)
        const file = await store.createFile({
          roomId,
          uploaderId: userId,
          name: cleanFileName(received.fileName),
          // The bytes say best what an image is; anything else keeps the type it was sent with.
          contentType: image?.type ?? declaredType(received.mimeType),
          size: received.size,
          width: image?.width ?? null,
          height: image?.height ?? null,
          storageKey,
          createdAt: now(),
        })
        // The room went, or the caller left it, while the body streamed in.
        if (!file) throw notFound('room')
        return toAttachment(file)
      } catch (error) {
        await (storageKey === undefined ? storage.discard(received.path) : storage.remove(storageKey))
        throw error
      }
    },

    /** The file and where its bytes are, for a reader allowed to see it. */
    async open(id: number, userId: number): Promise<{ file: FileRecord; path: string }> {
      const file = await store.getFile(id)
      if (!file || !(await mayRead(file, userId))) throw notFound('attachment')
      const path = storage.pathOf(file.storageKey)
      // Bytes gone from disk under a live row (removed by hand, a restore without the files
      // folder) are as absent as an unknown id, not a server error.
      if (!(await Bun.file(path).exists())) throw notFound('attachment')
      return { file, path }
    },
  }
}

export type AttachmentService = ReturnType<typeof createAttachmentService>
