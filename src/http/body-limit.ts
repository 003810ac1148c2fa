import { AppError } from '../errors'
import type { RouteTable } from './route-table'

/** The largest JSON request body the API reads; a route may declare its own (uploads). */
export const MAX_BODY_BYTES = 64 * 1024

export const tooLarge = (maxBytes: number) => new AppError('payload_too_large', `request body: at most ${maxBytes} bytes`)

/**
 * Body limits per route: MAX_BODY_BYTES unless `routes` names the route (`'POST
 * /api/chat/rooms/{roomId}/attachments'`, as its template reads) with a limit of its own.
 */
export function createBodyLimits(table: RouteTable, routes: Record<string, number> = {}) {
  const own = new Map(Object.entries(routes))

  function limitFor(request: Request): number {
    if (own.size === 0) return MAX_BODY_BYTES
    const route = table.find(request.method, new URL(request.url).pathname)
    return (route && own.get(`${request.method} ${route.template}`)) ?? MAX_BODY_BYTES
  }

  return {
    limitFor,

    /**
     * Refuses a body whose declared length is already over its route's limit, before a byte of
     * it is read (in onRequest, so also for an unknown route). The 413 closes the connection
     * (error-mapping.ts), so the rest of the body is never read either.
     */
    checkDeclared(request: Request): void {
      const declared = request.headers.get('content-length')
      if (declared === null) return
      const length = Number(declared)
      if (length <= MAX_BODY_BYTES) return
      const limit = limitFor(request)
      if (length > limit) throw tooLarge(limit)
    },
  }
}
