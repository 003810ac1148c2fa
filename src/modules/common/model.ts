import { t } from 'elysia'

/** Schemas shared by every feature: the error shape and the id path parameters. */

export const ErrorResponse = t.Object(
  {
    error: t.Object({
      code: t.String({ examples: ['validation_failed'] }),
      message: t.String({ examples: ['content: must not be blank'] }),
    }),
  },
  { description: 'Every error has this shape, with the matching HTTP status' },
)

/** A positive integer id in a path; anything else is a 400 naming the parameter. */
export const Id = t.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER, examples: [1] })

export const Timestamp = t.String({ format: 'date-time', description: 'ISO-8601 UTC with milliseconds', examples: ['2026-11-25T12:00:00.000Z'] })

export const iso = (epochMs: number) => new Date(epochMs).toISOString()

/** Error responses a route documents, by status. */
export const errors = (...statuses: (400 | 401 | 403 | 404 | 409 | 413 | 415 | 416 | 429 | 503)[]) =>
  Object.fromEntries(statuses.map((s) => [s, ErrorResponse])) as Record<number, typeof ErrorResponse>
