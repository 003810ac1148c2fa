import { badRequest } from '../errors'

interface Schema {
  type?: string
  anyOf?: Schema[]
  properties?: Record<string, Schema>
  items?: Schema
}

const takesInteger = (s: Schema | undefined): boolean => s?.type === 'integer' || (s?.anyOf?.some(takesInteger) ?? false)

/** The fields of a query or path schema that take an integer (ids, cursors, limits). */
export function integerFields(schema: unknown): ReadonlySet<string> {
  const properties = (schema as Schema | undefined)?.properties ?? {}
  return new Set(Object.keys(properties).filter((key) => takesInteger(properties[key])))
}

/**
 * Query and path values arrive as text. The API takes plain decimal digits only (schema
 * coercion would read `0x10` or `1e3` as numbers: another room), so an integer field that is
 * not digits is a 400 naming it. One that is goes on to validation as a number, which is also
 * what makes validation name the field: Elysia checks a coerced text value on its own, and
 * that error names none (`property: Expected integer ...`), while a number is checked in
 * place, with its path (`limit: must be an integer >= 1`). Bounds stay the schema's.
 */
export function coerceIntegerFields(source: Record<string, unknown> | undefined, fields: ReadonlySet<string>): void {
  if (!source || fields.size === 0) return
  for (const key of fields) {
    const value = source[key]
    if (typeof value !== 'string') continue
    // A sign is let through so that bounds name a negative value; "-0" would pass them as 0.
    if (!/^-?\d+$/.test(value) || /^-0+$/.test(value)) throw badRequest(`${key}: must be an integer`)
    source[key] = Number(value)
  }
}

/**
 * A JSON body says what it means: an integer field holds a JSON number. Elysia's coercion
 * would also take text (`"replyToId": "0x1"` as message 1); text there is a 400 naming the field.
 */
export function checkBodyIntegers(body: unknown, schema: unknown, path = ''): void {
  const s = schema as Schema | undefined
  if (!s || body === null || typeof body !== 'object') return
  if (Array.isArray(body)) {
    if (!s.items) return
    body.forEach((item, i) => checkItem(item, s.items, `${path}.${i}`))
    return
  }
  for (const key in s.properties) {
    if (key in body) checkItem((body as Record<string, unknown>)[key], s.properties[key], path ? `${path}.${key}` : key)
  }
}

function checkItem(value: unknown, schema: Schema | undefined, path: string): void {
  if (typeof value === 'string' && takesInteger(schema)) throw badRequest(`${path}: must be an integer`)
  checkBodyIntegers(value, schema, path)
}
