import { badRequest } from '../errors'

/** Path and query parameters that carry integers (ids, cursors, limits), with their minimum. */
const INTEGER_PARAMS = new Map([
  ['roomId', 1],
  ['userId', 1],
  ['messageId', 1],
  ['lastMessageId', 1],
  ['afterId', 0],
  ['limit', 1],
])

/**
 * Schema coercion would read `0x10` or `1e3` as numbers; the API takes plain decimal digits
 * only, so such an id is a 400 naming the parameter rather than some other room. The range is
 * checked here too: Elysia validates coerced parameters one by one and its error then names no
 * field (`property: Expected integer to be greater or equal to 1`). A larger `limit` is left to
 * be clamped.
 */
export function checkIntegerParams(...sources: (Record<string, unknown> | undefined)[]): void {
  for (const source of sources) {
    if (!source) continue
    for (const key in source) {
      const value = source[key]
      const min = INTEGER_PARAMS.get(key)
      if (min === undefined || typeof value !== 'string') continue
      if (!/^-?\d+$/.test(value)) throw badRequest(`${key}: must be an integer`)
      const n = Number(value)
      if (n < min) throw badRequest(`${key}: must be an integer >= ${min}`)
      if (key !== 'limit' && !Number.isSafeInteger(n)) throw badRequest(`${key}: must be at most ${Number.MAX_SAFE_INTEGER}`)
    }
  }
}
