import { Busboy, type BusboyInstance } from '@fastify/busboy'
import type { FileSink } from 'bun'
import { once } from 'node:events'
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

/** What the file writer gathers before it writes to disk. */
const SINK_BYTES = 256 * 1024

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
  if (!/^multipart\/form-data\s*(;|$)/i.test(type)) throw new AppError('unsupported_media_type', 'request body: must be multipart/form-data with one part named file')
  if (!request.body) throw badRequest('file: is required')

  let parser: BusboyInstance
  try {
    parser = new Busboy({ headers: { 'content-type': type }, preservePath: true, limits: { fields: 16, fieldSize: 1024, parts: 32, headerPairs: 32 } })
  } catch {
    throw badRequest('request body: malformed multipart/form-data')
  }

  const reader = request.body.getReader()
  // Every wait below ends when the upload fails. (Not by racing each read against one pending
  // promise: each race would hang a reaction on it holding its chunk, the whole file by the end.)
  const abort = new AbortController()
  let failure: unknown
  let file: { path: string; sink: FileSink; done: PromiseWithResolvers<void>; fileName: string | undefined; mimeType: string | undefined; size: number } | undefined
  const fail = (error: unknown) => {
    if (failure !== undefined) return
    failure = error
    abort.abort()
    void reader.cancel().catch(() => {})
    if (file) {
      const { sink, done } = file
      Promise.resolve(sink.end()).then(() => done.resolve(), () => done.resolve())
    }
  }

  const malformed = () => fail(badRequest('request body: malformed multipart/form-data'))
  parser.on('file', (field, stream, fileName, _encoding, mimeType) => {
    // A body that ends inside the part errs on its stream: unheard, that error would end the process.
    stream.on('error', malformed)
    if (field !== 'file' || file) {
      stream.resume()
      return fail(badRequest('request body: one part, named file'))
    }
    const path = options.destination()
    // Bun's file writer copies each chunk into its own buffer and writes it out: the parsed
    // chunk is free at once (node's WriteStream holds it until its write is done).
    const sink = Bun.file(path).writer({ highWaterMark: SINK_BYTES })
    const current = { path, sink, done: Promise.withResolvers<void>(), fileName, mimeType, size: 0 }
    current.done.promise.catch(() => {})
    file = current
    stream.on('data', (chunk: Buffer) => {
      if (failure !== undefined) return
      current.size += chunk.byteLength
      if (current.size > options.maxFileBytes) return fail(fileTooLarge(options.maxFileBytes))
      current.sink.write(chunk)
      const flushed = current.sink.flush()
      // Backpressure: the parser (and so the socket) waits while the disk does.
      if (flushed instanceof Promise) {
        stream.pause()
        flushed.then(() => stream.resume(), fail)
      }
    })
    stream.on('end', () => {
      if (failure === undefined) Promise.resolve(current.sink.end()).then(() => current.done.resolve(), fail)
    })
  })
  parser.on('error', malformed)
  const finished = once(parser, 'finish', { signal: abort.signal })
  finished.catch(() => {})

  try {
    let total = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (failure !== undefined) throw failure
      if (done) break
      total += value.byteLength
      if (total > options.maxBodyBytes) throw tooLarge(options.maxBodyBytes)
      if (!parser.write(value)) await once(parser, 'drain', { signal: abort.signal })
    }
    parser.end()
    await finished
    if (!file) throw badRequest('file: is required')
    // A failure from here on ends the writer, which settles this too.
    await file.done.promise
    if (failure !== undefined) throw failure
    return { path: file.path, fileName: file.fileName, mimeType: file.mimeType, size: file.size }
  } catch (error) {
    fail(error)
    if (file) {
      await file.done.promise.catch(() => {})
      await options.discard(file.path)
    }
    if (failure instanceof AppError) throw failure
    // The client went away mid-body (or the socket failed): nobody reads this answer.
    throw badRequest('request body: the upload was interrupted')
  }
}
