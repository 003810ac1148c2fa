import { AppError, badRequest } from '../errors'

/** The largest request body the API reads; bigger ones are refused before they are read whole. */
export const MAX_BODY_BYTES = 64 * 1024

/** Refuses a body whose declared length is already too big (before reading a byte of it). */
export function checkDeclaredLength(request: Request): void {
  const declared = request.headers.get('content-length')
  if (declared !== null && Number(declared) > MAX_BODY_BYTES) throw tooLarge()
}

const tooLarge = () => new AppError('payload_too_large', `request body: at most ${MAX_BODY_BYTES} bytes`)

/**
 * Parses a JSON request body: 415 for any other content type, 413 past MAX_BODY_BYTES (counted
 * while reading, so a chunked body without Content-Length is cut off too), 400 for bad JSON.
 * An empty body parses to null, which the route's schema then reports as missing.
 */
export async function parseJsonBody(request: Request): Promise<unknown> {
  const type = request.headers.get('content-type')
  const text = await readLimited(request)
  if (text.length === 0) return null
  if (!type || !/^application\/([\w.+-]+\+)?json\s*(;|$)/i.test(type)) {
    throw new AppError('unsupported_media_type', 'request body: must be application/json')
  }
  try {
    return JSON.parse(text)
  } catch {
    throw badRequest('request body: malformed JSON')
  }
}

async function readLimited(request: Request): Promise<string> {
  if (!request.body) return ''
  if (request.headers.get('content-length') !== null) {
    checkDeclaredLength(request)
    return request.text()
  }
  const reader = request.body.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > MAX_BODY_BYTES) {
      await reader.cancel()
      throw tooLarge()
    }
    chunks.push(value)
  }
  return new TextDecoder().decode(Buffer.concat(chunks))
}
