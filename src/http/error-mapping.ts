import { AppError, errorBody, type ErrorCode } from '../errors'
import type { Logger } from '../log'
import { StoreUnavailableError } from '../store/store'

/**
 * Turns anything a route throws into the contract's error: AppError as it says, Elysia's own
 * validation/parse/not-found errors as 400/404 with a message naming the field, and anything
 * else as a 500 that is logged and leaks nothing.
 */
export function mapError(code: string | number, error: unknown, log: Logger, route: string): Response {
  if (error instanceof AppError) {
    const headers: Record<string, string> = {}
    if (error.retryAfter !== undefined) headers['retry-after'] = String(error.retryAfter)
    return errorResponse(error.code, error.message, headers)
  }
  switch (code) {
    case 'VALIDATION':
      return errorResponse('validation_failed', validationMessage(error))
    case 'PARSE': {
      // Our body parser's own errors (413, 415, bad JSON) arrive wrapped by Elysia.
      const cause = (error as { cause?: unknown }).cause
      if (cause instanceof AppError) return mapError('APP', cause, log, route)
      return errorResponse('validation_failed', 'request body: malformed')
    }
    case 'NOT_FOUND':
      return errorResponse('not_found', 'no such route')
  }
  // Another process held the database past every retry: a passing condition, not a bug.
  if ((error as { code?: unknown })?.code?.toString().startsWith('SQLITE_BUSY')) {
    log.warn('database busy', { route })
    return errorResponse('unavailable', 'the database is busy; try again', { 'retry-after': '1' })
  }
  // PostgreSQL cut off or past the query deadline: the instance cannot serve this now.
  if (error instanceof StoreUnavailableError) {
    log.warn('database unavailable', { route, error: error.message })
    return errorResponse('unavailable', 'the database is unavailable; try again', { 'retry-after': '1' })
  }
  const status = (error as { status?: unknown })?.status
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return errorResponse(status === 404 ? 'not_found' : status === 413 ? 'payload_too_large' : 'validation_failed', 'bad request')
  }
  log.error('unhandled error', { route, code: String(code), error: error instanceof Error ? (error.stack ?? error.message) : String(error) })
  return errorResponse('internal', 'internal error')
}

export function errorResponse(code: ErrorCode, message: string, headers: Record<string, string> = {}): Response {
  const status = new AppError(code, message).status
  // A 413 is sent while the rest of the body may still be on its way: closing the connection
  // is what spares reading it (Bun would otherwise drain it all to reuse the connection).
  const close: Record<string, string> = code === 'payload_too_large' ? { connection: 'close' } : {}
  return new Response(JSON.stringify(errorBody(code, message)), {
    status,
    headers: { 'content-type': 'application/json', ...close, ...headers },
  })
}

interface Schema {
  type?: string
  const?: unknown
  anyOf?: Schema[]
  minimum?: number
  maximum?: number
  minLength?: number
  maxLength?: number
  minItems?: number
  maxItems?: number
  /** A message of the schema's own (`t.String({ error: '...' })`). */
  error?: unknown
}

interface ValueError {
  path?: string
  message?: string
  value?: unknown
  schema?: Schema
}

/**
 * `limit: must be an integer >= 1`: the first problem, named by its field (a body that is not
 * an object: `request body`). The wording comes from the schema, so it reads the same for a
 * query, a path or a body, and whatever TypeBox's message for it.
 */
function validationMessage(error: unknown): string {
  const e = error as { type?: string; valueError?: ValueError }
  const issue = e.valueError
  const field = issue?.path?.replace(/^\//, '').replace(/\//g, '.')
  return `${field || (e.type === 'body' ? 'request body' : 'request')}: ${describe(issue)}`
}

function describe(issue: ValueError | undefined): string {
  if (!issue) return 'invalid value'
  const schema = issue.schema ?? {}
  if (typeof schema.error === 'string') return schema.error
  if (/required property/i.test(issue.message ?? '')) return 'is required'
  if (/unexpected property/i.test(issue.message ?? '')) return 'is not a known field'
  const { value } = issue
  const options = schema.anyOf ?? [schema]
  // Integers arrive as `anyOf [text, integer]` (Elysia's coercion): the integer is the rule.
  const integer = options.find((s) => s.type === 'integer' || s.type === 'number')
  if (integer) {
    const kind = integer.type === 'integer' ? 'an integer' : 'a number'
    if (typeof value !== 'number' || (integer.type === 'integer' && !Number.isInteger(value))) return `must be ${kind}`
    if (integer.minimum !== undefined && value < integer.minimum) return `must be ${kind} >= ${integer.minimum}`
    if (integer.maximum !== undefined && value > integer.maximum) return `must be ${kind} <= ${integer.maximum}`
    return `must be ${kind}`
  }
  const literals = options.filter((s) => s.const !== undefined).map((s) => String(s.const))
  if (literals.length > 0 && literals.length === options.length) {
    return literals.length === 1 ? `must be ${literals[0]}` : `must be one of ${literals.join(', ')}`
  }
  switch (schema.type) {
    case 'string':
      if (typeof value !== 'string') return 'must be a string'
      if (schema.minLength !== undefined && value.length < schema.minLength) return `at least ${plural(schema.minLength, 'character')}`
      if (schema.maxLength !== undefined && value.length > schema.maxLength) return `at most ${plural(schema.maxLength, 'character')}`
      return 'is not in the expected format'
    case 'boolean':
      return 'must be true or false'
    case 'object':
      return 'must be a JSON object'
    case 'array':
      if (!Array.isArray(value)) return 'must be an array'
      if (schema.minItems !== undefined && value.length < schema.minItems) return `at least ${plural(schema.minItems, 'item')}`
      if (schema.maxItems !== undefined && value.length > schema.maxItems) return `at most ${plural(schema.maxItems, 'item')}`
  }
  return issue.message ?? 'invalid value'
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`
