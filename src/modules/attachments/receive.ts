import { Busboy, type BusboyInstance } from '@fastify/busboy'
import { once } from 'node:events'
import { createWriteStream, type WriteStream } from 'node:fs'
import { AppError, badRequest } from '../../errors'
import { tooLarge } from '../../http/body-limit'

/** Room for the multipart framing around the file (boundaries, part headers, small fields). */
export const MULTIPART_OVERHEAD_BYTES = 64 * 1024

export interface ReceivedFile {
  /** Where the bytes are (the caller places or discards the file). */
  path: string
  /** As the client sent it (the caller cleans it). */
  fileName: string | undefined
  mimeType: string | undefined
  size: number
}

export interface ReceiveOptions {
  /** A fresh path for the bytes. */
  destination: () => string
  maxFileBytes: number
  /** The limit of the whole body: the file plus MULTIPART_OVERHEAD_BYTES. */
  maxBodyBytes: number
  /** Removes a partly written file. */
  discard: (path: string) => Promise<void>
}

const fileTooLarge = (max: number) => new AppError('payload_too_large', `file: at most ${max} bytes`)

/**
 * Reads a multipart/form-data body with one part named `file`, writing that part to disk as it
 * arrives (busboy parses the stream; the body is never held whole). Backpressure runs from the
 * disk back to the socket: the next chunk is read only once busboy and the file took the last.
 * Over a limit (the file's, or the body's counted as it comes, chunked or not) the read stops
 * at once with a 413. On any failure, a client gone mid-body included, the partial file is
 * removed before this rejects: nothing is kept.
 */
export async function receiveFile(request: Request, options: ReceiveOptions): Promise<ReceivedFile> {
  const type = request.headers.get('content-type') ?? ''
  if (!/^multipart\/form-data\s*;/i.test(type)) throw new AppError('unsupported_media_type', 'request body: must be multipart/form-data with one part named file')
  if (!request.body) throw badRequest('file: is required')

  let parser: BusboyInstance
  try {
    parser = new Busboy({ headers: { 'content-type': type }, preservePath: true, limits: { fields: 16, fieldSize: 1024, parts: 32, headerPairs: 32 } })
  } catch {
    throw badRequest('request body: malformed multipart/form-data')
  }

  const reader = request.body.getReader()
  let failure: unknown
  let file: { path: string; out: WriteStream; done: Promise<unknown>; fileName: string | undefined; mimeType: string | undefined; size: number } | undefined
  const failed = Promise.withResolvers<never>()
  failed.promise.catch(() => {})
  const fail = (error: unknown) => {
    if (failure !== undefined) return
    failure = error
    failed.reject(error)
    void reader.cancel().catch(() => {})
    file?.out.destroy()
  }

  parser.on('file', (field, stream, fileName, _encoding, mimeType) => {
    if (field !== 'file' || file) {
      stream.resume()
      return fail(badRequest('request body: one part, named file'))
    }
    const path = options.destination()
    const out = createWriteStream(path)
    const done = once(out, 'close')
    done.catch(() => {})
    file = { path, out, done, fileName, mimeType, size: 0 }
    const current = file
    stream.on('data', (chunk: Buffer) => {
      current.size += chunk.byteLength
      if (current.size > options.maxFileBytes) fail(fileTooLarge(options.maxFileBytes))
    })
    out.on('error', fail)
    stream.pipe(out)
  })
  parser.on('error', () => fail(badRequest('request body: malformed multipart/form-data')))
  const finished = once(parser, 'finish')
  finished.catch(() => {})

  try {
    let total = 0
    for (;;) {
      const { done, value } = await Promise.race([reader.read(), failed.promise])
      if (done) break
      total += value.byteLength
      if (total > options.maxBodyBytes) throw tooLarge(options.maxBodyBytes)
      if (!parser.write(value)) await Promise.race([once(parser, 'drain'), failed.promise])
    }
    parser.end()
    await Promise.race([finished, failed.promise])
    if (!file) throw badRequest('file: is required')
    await Promise.race([file.done, failed.promise])
    return { path: file.path, fileName: file.fileName, mimeType: file.mimeType, size: file.size }
  } catch (error) {
    fail(error)
    if (file) {
      await file.done.catch(() => {})
      await options.discard(file.path)
    }
    if (failure instanceof AppError) throw failure
    // The client went away mid-body (or the socket failed): nobody reads this answer.
    throw badRequest('request body: the upload was interrupted')
  }
}
