import { badRequest } from '../errors'

/** Path and query parameters that carry integers (ids, cursors, limits). */
const INTEGER_PARAMS = new Set(['roomId', 'userId', 'messageId', 'lastMessageId', 'afterId', 'limit'])

/**
 * Schema coercion would read `0x10` or `1e3` as numbers; the API takes plain decimal digits
 * only, so such an id is a 400 naming the parameter rather than some other room.
 */
export function checkIntegerParams(...sources: (Record<string, unknown> | undefined)[]): void {
  for (const source of sources) {
    if (!source) continue
    for (const key in source) {
      const value = source[key]
      if (INTEGER_PARAMS.has(key) && typeof value === 'string' && !/^-?\d+$/.test(value)) {
        throw badRequest(`${key}: must be an integer`)
      }
    }
  }
}
