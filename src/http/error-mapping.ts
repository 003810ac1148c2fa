import { AppError, errorBody, type ErrorCode } from '../errors'
import type { Logger } from '../log'

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

interface ValueError {
  path?: string
  message?: string
  schema?: { type?: string; anyOf?: { type?: string }[]; minimum?: number; maximum?: number }
}

/** "content: Expected string" — the first problem, named by its field. */
function validationMessage(error: unknown): string {
  const e = error as { type?: string; valueError?: ValueError }
  const issue = e.valueError
  const field = issue?.path?.replace(/^\//, '').replace(/\//g, '.')
  const name = field || (e.type === 'body' ? 'request body' : (e.type ?? 'request'))
  return `${name}: ${describe(issue)}`
}

/** TypeBox says "Expected union value" for numbers coerced from strings; say what is wanted. */
function describe(issue: ValueError | undefined): string {
  if (!issue?.message) return 'invalid value'
  if (!/union/i.test(issue.message)) return issue.message
  const numeric = issue.schema?.anyOf?.find((s) => s.type === 'integer' || s.type === 'number')
  if (!numeric) return 'invalid value'
  const range = (numeric as { minimum?: number }).minimum !== undefined ? ` >= ${(numeric as { minimum?: number }).minimum}` : ''
  return `must be an integer${range}`
}
