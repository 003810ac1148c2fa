import { AppError } from '../errors'
import type { RouteTable } from './route-table'

/** The largest JSON request body the API reads; a route that reads its own body has its own. */
export const MAX_BODY_BYTES = 64 * 1024

export const tooLarge = (maxBytes: number) => new AppError('payload_too_large', `request body: at most ${maxBytes} bytes`)

/**
 * Body limits per route: MAX_BODY_BYTES for every JSON body, unless `ownBodies` names the route
 * (`'POST /api/chat/rooms/{roomId}/attachments'`, as its template reads) with a limit of its
 * own: such a route takes a body that is not JSON (an upload), reads it itself, and counts it
 * against that limit as it arrives.
 */
export function createBodyLimits(table: RouteTable, ownBodies: Record<string, number> = {}) {
  const own = new Map(Object.entries(ownBodies))

  function ownLimit(request: Request): number | undefined {
    if (own.size === 0) return undefined
    const route = table.find(request.method, new URL(request.url).pathname)
    return route && own.get(`${request.method} ${route.template}`)
  }

  return {
    /**
     * The route Elysia matched (`route` as registered) reads its own body (see above), so the
     * JSON parser leaves it alone.
     */
    readsOwnBody(method: string, route: string | undefined): boolean {
      if (own.size === 0 || route === undefined) return false
      const name = table.nameOf(method, route)
      return name !== undefined && own.has(name)
    },

    /**
     * Refuses a body whose declared length is already over its route's limit, before a byte of
     * it is read (in onRequest, so also for an unknown route). The 413 closes the connection
     * (error-mapping.ts), so the rest of the body is never read either.
     */
    checkDeclared(request: Request): void {
      const declared = request.headers.get('content-length')
      if (declared === null) return
      const length = Number(declared)
      // Within the JSON limit nothing needs a lookup: a route's own counting covers the rest.
      if (length <= MAX_BODY_BYTES) return
      const limit = ownLimit(request) ?? MAX_BODY_BYTES
      if (length > limit) throw tooLarge(limit)
    },
  }
}
