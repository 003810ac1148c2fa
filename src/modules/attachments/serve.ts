import { errorResponse } from '../../http/error-mapping'
import type { FileRecord } from '../../store/store'
import { servingHeaders } from './file-types'

/**
 * The answer to GET of a stored file: the bytes from disk (Bun sends them with sendfile, never
 * through memory), a 304 for a matching If-None-Match, a 206 for one satisfiable byte range, a
 * 416 (JSON) for an unsatisfiable one. A file never changes under its id, so its ETag is its id
 * and size. Every answer carries nosniff and a sandbox CSP: whatever the bytes are, a browser
 * neither guesses an HTML page out of them nor runs one with this origin's rights.
 */
export function fileResponse(file: FileRecord, path: string, request: Request): Response {
  const etag = `"${file.id}-${file.size}"`
  const headers: Record<string, string> = {
    ...servingHeaders(file.contentType, file.name),
    etag,
    'accept-ranges': 'bytes',
    // The bytes never change, but who may read them does (a message deleted, a room left).
    'cache-control': 'private, no-cache',
    'x-content-type-options': 'nosniff',
    'content-security-policy': "sandbox; default-src 'none'",
  }
  if (matches(request.headers.get('if-none-match'), etag)) return new Response(null, { status: 304, headers })

  const range = parseRange(request.headers.get('range'), file.size)
  if (range === 'unsatisfiable') {
    const refused = errorResponse('range_not_satisfiable', `range: the file has ${file.size} bytes`)
    refused.headers.set('content-range', `bytes */${file.size}`)
    return refused
  }
  const bytes = Bun.file(path)
  if (range === null) return new Response(bytes, { status: 200, headers })
  const [start, end] = range
  headers['content-range'] = `bytes ${start}-${end}/${file.size}`
  return new Response(bytes.slice(start, end + 1), { status: 206, headers })
}

/** If-None-Match: `*`, or a list of tags compared weakly (W/ ignored), as RFC 9110 says for GET. */
function matches(header: string | null, etag: string): boolean {
  if (header === null) return false
  if (header.trim() === '*') return true
  return header.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag)
}

/**
 * One range of `bytes=` (`a-b`, `a-`, `-n`): [start, end] inclusive. Null (send it whole) for
 * no header, one that is not a byte range, or several ranges (RFC 9110 lets a server ignore
 * Range; multipart answers are not worth their cost here).
 */
export function parseRange(header: string | null, size: number): [number, number] | 'unsatisfiable' | null {
  if (header === null) return null
  const match = /^bytes=\s*(\d*)-(\d*)\s*$/.exec(header)
  if (!match || (match[1] === '' && match[2] === '')) return null
  const [first, last] = [match[1]!, match[2]!]
  if (first === '') {
    const suffix = Number(last)
    if (suffix === 0 || size === 0) return 'unsatisfiable'
    return [Math.max(0, size - suffix), size - 1]
  }
  const start = Number(first)
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1)
  if (last !== '' && Number(last) < start) return null
  if (start >= size) return 'unsatisfiable'
  return [start, end]
}
