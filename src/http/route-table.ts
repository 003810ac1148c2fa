import { integerFields } from './integer-params'

/**
 * The app's routes by path pattern, for what the router itself cannot say: which methods a path
 * takes (to answer a wrong method, OPTIONS and HEAD) and which route a request is for before it
 * is routed (its body limit, checked before a byte of the body is read); and, by the route
 * Elysia matched, which of its query and path fields take integers.
 */

/** What the table reads of a route: Elysia's `app.routes` entries fit. */
export interface RouteLike {
  method: string
  path: string
  hooks?: {
    detail?: { responses?: Record<string, { content?: Record<string, unknown> } | undefined> }
    params?: unknown
    query?: unknown
    body?: unknown
  }
}

interface Entry {
  method: string
  /** The route's path as documented: `/api/chat/rooms/{roomId}`. */
  template: string
  pattern: RegExp
  /** Static segments first: `/rooms/public` is more specific than `/rooms/:roomId`. */
  specificity: number
  /** Answers an endless text/event-stream, so it has nothing to say to a HEAD. */
  stream: boolean
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

function entry(route: RouteLike): Entry {
  const segments = route.path.split('/').filter(Boolean)
  const source = segments.map((s) => (s === '*' ? '(?:/.*)?' : s.startsWith(':') ? '/[^/]+' : `/${escape(s)}`)).join('')
  return {
    method: route.method,
    template: '/' + segments.map((s) => (s.startsWith(':') ? `{${s.slice(1)}}` : s)).join('/'),
    pattern: new RegExp(`^${source || '/'}/?$`),
    specificity: segments.filter((s) => !s.startsWith(':') && s !== '*').length,
    stream: route.method === 'GET' && route.hooks?.detail?.responses?.['200']?.content?.['text/event-stream'] !== undefined,
  }
}

/**
 * Built on first use from `routes()` (the app's routes once every module is in); the catch-all
 * route (`ALL /*`) is left out, since it is what answers when nothing else does.
 */
export function createRouteTable(routes: () => readonly RouteLike[]) {
  let entries: Entry[] | undefined
  let registered: Map<string, Map<string, Registered>> | undefined
  // Per method, the entries a request of that method can be for, most specific first: `find`
  // runs on a request's hot path and tests only these, with no list built per call.
  const byMethod = new Map<string, Entry[]>()
  const all = () =>
    (entries ??= routes()
      .filter((r) => !(r.method === 'ALL' && (r.path === '/*' || r.path === '*')))
      .map(entry)
      .sort((a, b) => b.specificity - a.specificity))
  const forMethod = (method: string) => {
    let list = byMethod.get(method)
    if (!list) byMethod.set(method, (list = all().filter((e) => e.method === method || e.method === 'ALL')))
    return list
  }
  // By method, then by the path Elysia names the route it matched (`/api/chat/rooms/:roomId`):
  // asked twice per request, so no key is built per call (measured: half the time of one
  // `${method} ${path}` key).
  const byRoute = () => {
    if (registered) return registered
    registered = new Map()
    for (const r of routes()) {
      let paths = registered.get(r.method)
      if (!paths) registered.set(r.method, (paths = new Map()))
      const name = `${r.method} ${entry(r).template}`
      paths.set(r.path, { name, fields: { params: integerFields(r.hooks?.params), query: integerFields(r.hooks?.query), body: r.hooks?.body } })
    }
    return registered
  }
  const registeredAs = (method: string, route: string) => byRoute().get(method)?.get(route) ?? (method === 'HEAD' ? byRoute().get('GET')?.get(route) : undefined)

  const matching = (pathname: string) => all().filter((e) => e.pattern.test(pathname))

  return {
    /** The route a request is for (the most specific match), if any. */
    find(method: string, pathname: string): { template: string; stream: boolean } | undefined {
      for (const e of forMethod(method)) if (e.pattern.test(pathname)) return e
      return undefined
    },

    /** The methods the path takes, as an `Allow` header lists them; empty for an unknown path. */
    allowed(pathname: string): string[] {
      const found = matching(pathname)
      if (found.length === 0) return []
      const methods = new Set(found.map((e) => e.method))
      if (found.some((e) => e.method === 'GET' && !e.stream)) methods.add('HEAD')
      methods.add('OPTIONS')
      return ORDER.filter((m) => methods.has(m))
    },

    /** The integer fields of the route Elysia matched (`route` as registered); HEAD runs GET's. */
    integerFields(method: string, route: string): IntegerFields {
      return registeredAs(method, route)?.fields ?? NO_FIELDS
    },

    /**
     * The route Elysia matched (`route` as registered) by its method and documented template,
     * `POST /api/chat/rooms/{roomId}/attachments`, if any; HEAD's is GET's.
     */
    nameOf(method: string, route: string): string | undefined {
      return registeredAs(method, route)?.name
    },

    /** The documented template of the first route on this path: `/api/chat/rooms/{roomId}`. */
    template(pathname: string): string | undefined {
      return matching(pathname)[0]?.template
    },
  }
}

interface Registered {
  /** Method and documented template: `POST /api/chat/rooms/{roomId}/messages`. */
  name: string
  fields: IntegerFields
}

interface IntegerFields {
  params: ReadonlySet<string>
  query: ReadonlySet<string>
  /** The body's schema, whose integer fields must be JSON numbers. */
  body: unknown
}

const NO_FIELDS: IntegerFields = { params: new Set(), query: new Set(), body: undefined }

const ORDER = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']

export type RouteTable = ReturnType<typeof createRouteTable>
