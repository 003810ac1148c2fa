import { Elysia } from 'elysia'
import type { Deps } from './deps'
import { labelSet } from './metrics'
import { mapError } from './http/error-mapping'
import { checkBodyIntegers, coerceIntegerFields } from './http/integer-params'
import { refuseNul } from './http/nul-text'
import { createBodyLimits } from './http/body-limit'
import { parseJsonBody } from './http/json-body'
import { createRouteTable } from './http/route-table'
import { createUnmatched } from './http/unmatched'
import { adminRoutes } from './modules/admin'
import { attachmentRoutes, UPLOAD_ROUTE } from './modules/attachments'
import { uploadBodyLimit } from './modules/attachments/service'
import { authRoutes } from './modules/auth'
import { createAuthPlugin } from './modules/auth/plugin'
import { docsRoutes } from './modules/docs'
import { mentionRoutes } from './modules/mentions'
import { messageRoutes } from './modules/messages'
import { opsRoutes } from './modules/ops'
import { pushRoutes } from './modules/push'
import { roomRoutes } from './modules/rooms'
import { searchRoutes } from './modules/search'
import { streamRoutes } from './modules/stream'
import { userRoutes } from './modules/users'
import { webRoutes } from './modules/web'
import { VERSION } from './version'

/**
 * The HTTP application: cross-cutting request handling (body parsing, errors, logging,
 * metrics) and the feature modules. No side effects: main.ts listens, tests build their own.
 */
export function createApp(deps: Deps) {
  const { log, metrics } = deps
  const authPlugin = createAuthPlugin(deps.auth)
  const started = new WeakMap<Request, number>()
  const requestLabels = labelSet((method: string, route: string, status: number) => ({ method, route, status }))
  const durationLabels = labelSet((method: string, route: string) => ({ method, route }))

  const routes = createRouteTable(() => app.routes)
  // Every request body is JSON within MAX_BODY_BYTES; a route that reads its own body (an
  // upload, up to MAX_UPLOAD_BYTES) names itself here by method and path template.
  const bodyLimits = createBodyLimits(routes, { [UPLOAD_ROUTE]: uploadBodyLimit(deps.config.maxUploadBytes) })
  const unmatched = createUnmatched(routes)

  // No schema here transforms values (no Encode pass needed), and handlers read only the
  // fields they know and build exact responses (no normalizing copies needed).
  const app = new Elysia({ encodeSchema: false, normalize: false })
    .onRequest(({ request }) => {
      started.set(request, performance.now())
      bodyLimits.checkDeclared(request)
      return unmatched.refuseEarly(request)
    })
    // Runs before the routes' declared 'application/json' (which documents the body type), so
    // every body goes through the size, type and syntax checks; a route that reads its own body
    // (see bodyLimits) gets it untouched, for its own `parse`.
    .onParse(({ request, route }) => (bodyLimits.readsOwnBody(request.method, route) ? undefined : parseJsonBody(request)))
    .onTransform(({ request, route, params, query, body }) => {
      // A NUL in a query or path (no field needs one; PostgreSQL cannot store it), as in bodies.
      if (request.url.includes('%00')) refuseNul(params, query)
      const fields = routes.integerFields(request.method, route)
      coerceIntegerFields(params, fields.params)
      coerceIntegerFields(query, fields.query)
      checkBodyIntegers(body, fields.body)
    })
    .onError(({ code, error, request, route }) => mapError(code, error, log, route ?? new URL(request.url).pathname))
    .onAfterResponse(({ request, route, set }) => {
      const start = started.get(request)
      if (start === undefined) return
      const seconds = (performance.now() - start) / 1000
      const status = typeof set.status === 'number' ? set.status : 200
      const routeName = route || 'unmatched'
      metrics.httpRequests.inc(requestLabels(request.method, routeName, status))
      metrics.httpDuration.observe(seconds, durationLabels(request.method, routeName))
      if (log.enabled('info')) {
        log.info('request', { method: request.method, route: routeName, status, ms: Math.round(seconds * 10_000) / 10 })
      }
    })
    .use(docsRoutes(VERSION))
    .use(opsRoutes({ store: deps.store, bus: deps.bus, metrics, usesRedis: deps.config.redisUrl !== undefined }))
    .use(authRoutes({ auth: deps.auth, tokens: deps.tokens, authPlugin, presence: deps.presence, trustProxy: deps.config.trustProxy }))
    .use(adminRoutes({ admin: deps.admin, authPlugin, presence: deps.presence, publicUrl: deps.config.publicUrl, trustProxy: deps.config.trustProxy }))
    .use(userRoutes({ users: deps.users, authPlugin }))
    .use(roomRoutes({ rooms: deps.rooms, authPlugin }))
    .use(messageRoutes({ messages: deps.messages, authPlugin }))
    .use(mentionRoutes({ messages: deps.messages, authPlugin }))
    .use(searchRoutes({ search: deps.search, authPlugin }))
    .use(attachmentRoutes({ attachments: deps.attachments, authPlugin, maxUploadBytes: deps.config.maxUploadBytes }))
    .use(pushRoutes({ push: deps.push, authPlugin }))
    .use(streamRoutes({ streams: deps.streams, rooms: deps.rooms, authPlugin, maxStreamsPerUser: deps.config.maxStreamsPerUser }))
    .use(webRoutes)
    .all('*', ({ request }) => unmatched.answer(request), { detail: { hide: true } })
  return app
}

export type App = ReturnType<typeof createApp>
