import { errorResponse } from './error-mapping'
import type { RouteTable } from './route-table'

/**
 * What the API answers when no route takes a request. The contract's error table has no 405,
 * so a method the path does not take is a 404 `not_found` like an unknown path: one error table
 * for clients, and the message and an `Allow` header say what the path does take.
 * - An unknown path: 404 `no such route`.
 * - A known path, another method: 404 naming the route and the methods it takes, with `Allow`.
 * - OPTIONS on a known path: 204 with `Allow`, and no CORS headers: the web client is served
 *   from the same origin, so a cross-origin preflight is meant to fail. Unknown path: 404.
 * - HEAD: answered like GET without a body (Elysia runs the GET route), except on the event
 *   streams, whose GET opens a subscription (and joins a public room): a HEAD there would have
 *   side effects and an endless body to measure, so it is refused like any other method.
 */
export function createUnmatched(table: RouteTable) {
  function wrongMethod(method: string, pathname: string, allow: string[]): Response {
    const route = table.template(pathname)
    return errorResponse('not_found', `no such route: ${method} ${route}; this path takes ${allow.join(', ')}`, { allow: allow.join(', ') })
  }

  return {
    /** For onRequest: a HEAD of a stream is refused before its GET route could open one. */
    refuseEarly(request: Request): Response | undefined {
      if (request.method !== 'HEAD') return undefined
      const pathname = new URL(request.url).pathname
      if (!table.find('GET', pathname)?.stream) return undefined
      return wrongMethod('HEAD', pathname, table.allowed(pathname))
    },

    /** For the catch-all route. */
    answer(request: Request): Response {
      const pathname = new URL(request.url).pathname
      const allow = table.allowed(pathname)
      if (allow.length === 0) return errorResponse('not_found', 'no such route')
      if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: { allow: allow.join(', ') } })
      return wrongMethod(request.method, pathname, allow)
    },
  }
}
