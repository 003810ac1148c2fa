/**
 * Every error the API can answer, with its stable code and HTTP status. Services throw
 * `AppError`; the one `onError` in app.ts turns anything thrown into the contract's shape
 * `{"error": {"code", "message"}}`. Anything unknown becomes a 500 that leaks nothing.
 */
export const ERROR_STATUS = {
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  /** A Range past the end of a file (GET of an attachment). */
  range_not_satisfiable: 416,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
} as const

export type ErrorCode = keyof typeof ERROR_STATUS

export class AppError extends Error {
  readonly status: number
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Seconds, sent as Retry-After (429). */
    readonly retryAfter?: number,
  ) {
    super(message)
    this.status = ERROR_STATUS[code]
  }
}

export const badRequest = (message: string) => new AppError('validation_failed', message)
export const unauthorized = (message = 'a valid session is required') => new AppError('unauthorized', message)
export const forbidden = (message: string) => new AppError('forbidden', message)
export const notFound = (what: string) => new AppError('not_found', `${what} not found`)
export const conflict = (message: string) => new AppError('conflict', message)

export const errorBody = (code: ErrorCode, message: string) => ({ error: { code, message } })
