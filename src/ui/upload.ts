import { ApiError, apiError, roomPath } from './api.ts'
import type { Attachment } from './types.ts'

/** API.md's default MAX_UPLOAD_BYTES: the limit assumed until the server names its own. */
const DEFAULT_MAX_UPLOAD_BYTES = 25 * 1024 * 1024

// The server names its limit only when it refuses a file (the 413's message); learned once, it
// is checked before sending from then on.
let maxUploadBytes = DEFAULT_MAX_UPLOAD_BYTES

/** The largest file the server is believed to take, in bytes. */
export const uploadLimit = (): number => maxUploadBytes

/**
 * What a 413 teaches: `file: at most N bytes` is the file limit itself; `request body: at most
 * N bytes` (a declared length refused before the body was read) is the limit of the file with
 * its multipart framing, so no file over N can pass.
 */
function learnLimit(error: ApiError): void {
  const named = /^(file|request body): at most (\d+) bytes/.exec(error.message)
  if (named) maxUploadBytes = Number(named[2])
}

export interface Upload {
  /** The stored upload, to post with `attachmentIds`. Rejects with an ApiError (code `aborted` when cancelled). */
  done: Promise<Attachment>
  cancel(): void
}

/**
 * Sends one file as `multipart/form-data` (one part named `file`). XMLHttpRequest, because its
 * upload progress events are what a progress bar needs; fetch reports none for a request body.
 */
export function uploadFile(roomId: number, file: File, progress: (sent: number, total: number) => void): Upload {
  const xhr = new XMLHttpRequest()
  const done = new Promise<Attachment>((resolve, reject) => {
    xhr.open('POST', `${roomPath(roomId)}/attachments`)
    xhr.responseType = 'json'
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) progress(event.loaded, event.total)
    })
    xhr.addEventListener('load', () => {
      if (xhr.status === 201) return resolve(xhr.response as Attachment)
      const error = apiError(xhr.status, xhr.response, xhr.getResponseHeader('Retry-After'))
      if (xhr.status === 413) learnLimit(error)
      reject(error)
    })
    xhr.addEventListener('error', () => reject(new ApiError(0, 'network', 'The server cannot be reached.')))
    xhr.addEventListener('abort', () => reject(new ApiError(0, 'aborted', 'Cancelled.')))
    const body = new FormData()
    body.append('file', file, file.name)
    xhr.send(body)
  })
  return { done, cancel: () => xhr.abort() }
}
