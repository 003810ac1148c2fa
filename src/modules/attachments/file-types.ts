/**
 * What a user's file is called and how it is served: the name is metadata only (never a path),
 * the served type comes from a short list, and everything off that list is a download.
 */

const NAME_MAX_CHARS = 255

/**
 * The part's file name with path separators and control characters removed (API.md), and the
 * bidirectional overrides too, which would show `txt.exe` as `exe.txt`; 1-255 code points,
 * extension kept when cut. A name left empty, or only dots (which a URL path reads as `.` or
 * `..`), becomes `file`.
 */
export function cleanFileName(raw: string | undefined): string {
  const name = (raw ?? '').replace(/[/\\\p{Cc}\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu, '').trim()
  if (/^\.*$/.test(name)) return 'file'
  const chars = [...name]
  if (chars.length <= NAME_MAX_CHARS) return name
  const dot = name.lastIndexOf('.')
  const extension = dot > 0 ? [...name.slice(dot)] : []
  if (extension.length === 0 || extension.length > 16) return chars.slice(0, NAME_MAX_CHARS).join('')
  return [...chars.slice(0, NAME_MAX_CHARS - extension.length), ...extension].join('')
}

/** A part's declared type, lowercased without parameters; anything unreadable is a download. */
export function declaredType(raw: string | undefined): string {
  const type = (raw ?? '').split(';')[0]!.trim().toLowerCase()
  return /^[a-z0-9][a-z0-9!#$&^_.+-]{0,63}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,63}$/.test(type) ? type : 'application/octet-stream'
}

/** Types served as stored; inline ones are shown by the browser, the rest are downloads. */
const SERVED: Record<string, { header: string; inline: boolean }> = {
  'image/png': { header: 'image/png', inline: true },
  'image/jpeg': { header: 'image/jpeg', inline: true },
  'image/gif': { header: 'image/gif', inline: true },
  'image/webp': { header: 'image/webp', inline: true },
  'video/mp4': { header: 'video/mp4', inline: true },
  'video/webm': { header: 'video/webm', inline: true },
  'audio/mpeg': { header: 'audio/mpeg', inline: true },
  'audio/ogg': { header: 'audio/ogg', inline: true },
  'audio/wav': { header: 'audio/wav', inline: true },
  'application/pdf': { header: 'application/pdf', inline: false },
  'text/plain': { header: 'text/plain; charset=utf-8', inline: false },
}

/** Content-Type and Content-Disposition of a stored file. */
export function servingHeaders(contentType: string, name: string): { 'content-type': string; 'content-disposition': string } {
  const served = SERVED[contentType]
  return {
    'content-type': served?.header ?? 'application/octet-stream',
    'content-disposition': `${served?.inline ? 'inline' : 'attachment'}; ${dispositionName(name)}`,
  }
}

/** RFC 6266: an ASCII fallback for old clients, and the exact name as UTF-8 (RFC 8187). */
function dispositionName(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_')
  const exact = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
  return `filename="${fallback}"; filename*=UTF-8''${exact}`
}
