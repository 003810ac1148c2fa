import { badRequest } from '../../errors'

/**
 * Paging rules that services apply themselves, whatever the route's schema let through. The
 * schemas are the first line (they answer 400 and document the bounds); these are the second,
 * for the day a validator does not run (a build whose generated validators broke let
 * `limit=-1` reach SQLite as "no limit"). Values are taken as `unknown` on purpose: a query
 * value that skipped coercion is still a decimal string here.
 */

/** A page size within 1..max: absent gives `fallback`, out of range is clamped, never "no limit". */
export function pageLimit(value: unknown, fallback: number, max: number): number {
  if (value === undefined) return fallback
  // Any integer clamps, however large: the contract says larger values are clamped.
  const n = integer('limit', value, Number.isInteger)
  return Math.min(Math.max(n, 1), max)
}

/** An optional id cursor: absent stays absent; anything but an integer >= `min` is a 400 naming it. */
export function cursor(name: string, value: unknown, min = 0): number | undefined {
  return value === undefined ? undefined : requiredCursor(name, value, min)
}

/** A required id cursor (a read marker): an integer >= `min`, else a 400 naming it. */
export function requiredCursor(name: string, value: unknown, min = 0): number {
  const n = integer(name, value, Number.isSafeInteger)
  if (n < min) throw badRequest(`${name}: must be an integer >= ${min}`)
  return n
}

function integer(name: string, value: unknown, accept: (n: number) => boolean): number {
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value
  if (typeof n !== 'number' || !accept(n)) throw badRequest(`${name}: must be an integer`)
  return n
}
