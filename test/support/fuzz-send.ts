/**
 * Sending fuzz requests and judging the replies by the contract (API.md) and the OpenAPI
 * document; a failing request is reported whole so it can be sent again.
 */
import { KNOWN_BUG_CASES, type FuzzBody, type FuzzRequest } from './openapi-fuzz'
import { integerSchema, schemaViolation, type Operation } from './openapi-operations'

/** The statuses of API.md's error codes (Conventions). The fuzzer holds the server to this table, not to its own. */
export const CONTRACT_ERROR_STATUS: Record<string, number> = {
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  internal: 500,
  unavailable: 503,
}

export interface FuzzReply {
  status: number
  contentType: string | null
  retryAfter: string | null
  /** The body, or its first bytes for a stream. */
  text: string
}

const REPLY_DEADLINE_MS = 10_000

/** Sends a request; a stream's answer is read up to its first bytes, then dropped. */
export async function send(url: string, req: FuzzRequest): Promise<FuzzReply> {
  const abort = new AbortController()
  const timer = setTimeout(() => abort.abort(), REPLY_DEADLINE_MS)
  try {
    const res = await fetch(url + req.path, { method: req.method, headers: req.headers, body: bodyInit(req.body), signal: abort.signal, redirect: 'manual' })
    const contentType = res.headers.get('content-type')
    let text: string
    if (contentType?.startsWith('text/event-stream')) {
      const first = await res.body?.getReader().read()
      text = first?.value ? new TextDecoder().decode(first.value) : ''
      abort.abort()
    } else {
      text = await res.text()
    }
    return { status: res.status, contentType, retryAfter: res.headers.get('retry-after'), text }
  } catch (error) {
    if (abort.signal.aborted) throw new Error(`no complete answer within ${REPLY_DEADLINE_MS} ms`)
    throw error
  } finally {
    clearTimeout(timer)
  }
}

function bodyInit(body: FuzzBody | undefined): BodyInit | undefined {
  if (!body) return undefined
  if ('text' in body) return body.text
  if ('base64' in body) return Buffer.from(body.base64, 'base64')
  const form = new FormData()
  for (const [key, value] of Object.entries(body.multipart)) {
    form.append(key, typeof value === 'string' ? value : new File([value.text], value.filename, { type: value.type }))
  }
  return form
}

/**
 * What is wrong with a reply, or null: no 5xx; every 4xx the contract's JSON error with its
 * status; a 2xx of the operation's own method and path as the document describes it.
 */
export function problemWith(req: FuzzRequest, reply: FuzzReply, op?: Operation): string | null {
  if (reply.status >= 500) return `${reply.status}: a server error (${reply.text.slice(0, 200)})`
  if (reply.status < 400) return op && sameRoute(req) ? (refusedValue(req, op) ?? documentedReply(reply, op)) : null
  if (!reply.contentType?.startsWith('application/json')) return `${reply.status} with content type ${reply.contentType}, not JSON (${JSON.stringify(reply.text.slice(0, 100))})`
  if (req.method === 'HEAD') return null
  let parsed: unknown
  try {
    parsed = JSON.parse(reply.text)
  } catch {
    return `${reply.status} with a body that is not JSON: ${JSON.stringify(reply.text.slice(0, 100))}`
  }
  const error = (parsed as { error?: { code?: unknown; message?: unknown } })?.error
  const keys = parsed && typeof parsed === 'object' ? Object.keys(parsed) : []
  if (typeof error?.code !== 'string' || typeof error.message !== 'string' || keys.length !== 1) {
    return `${reply.status} whose body is not {"error":{"code","message"}}: ${reply.text.slice(0, 200)}`
  }
  const expected = CONTRACT_ERROR_STATUS[error.code]
  if (expected !== reply.status) return `${reply.status} with code ${error.code}, which API.md gives ${expected ?? 'no status'}`
  if (reply.status === 429 && reply.retryAfter === null) return '429 without Retry-After'
  // API.md: a 400 names the field (`limit: ...`), never a generic `property`.
  const field = /^([^:]+): ./s.exec(error.message)?.[1]
  if (error.code === 'validation_failed' && (!field || field === 'property')) return `400 whose message names no field: ${JSON.stringify(error.message)}`
  return null
}

/** Whether the request still goes to its operation's route (an emptied path segment may reach another). */
const sameRoute = (req: FuzzRequest) => !req.variant.some((v) => v === 'method' || v.startsWith('path '))

/**
 * API.md: a non-decimal, non-positive or out-of-range id or cursor is a 400. The integer path or
 * query value a mutation put in, if its schema refuses it (`limit` may be clamped instead).
 */
function refusedValue(req: FuzzRequest, op: Operation): string | null {
  const [path, search = ''] = req.path.split('?') as [string, string?]
  for (const variant of req.variant) {
    const [, where, name] = /^(path|query) (\w+)$/.exec(variant) ?? []
    if (!where || !name || name === 'limit' || req.variant.includes(`query ${name} twice`)) continue
    const schema = op.parameters.find((p) => p.name === name && p.in === where)?.schema
    const integer = schema && integerSchema(schema)
    if (!integer) continue
    let value: string | null | undefined
    if (where === 'query') value = new URLSearchParams(search).getAll(name).at(-1)
    else {
      const raw = path.split('/')[op.path.split('/').indexOf(`{${name}}`)] ?? ''
      try {
        value = decodeURIComponent(raw)
      } catch {
        value = raw
      }
      // An empty or dotted segment, or one with a slash, may reach another route: no verdict.
      if (value === '' || /^\.{1,2}$|\//.test(value)) continue
    }
    if (value === undefined || value === null) continue
    const n = Number(value)
    if (!/^\d+$/.test(value) || n < (integer.minimum ?? 0) || n > (integer.maximum ?? Number.MAX_SAFE_INTEGER)) {
      return `accepted ${name}=${JSON.stringify(value.slice(0, 40))}, which its schema refuses (a 400 in API.md)`
    }
  }
  return null
}

/** API.md's largest page of any list (users, history, mentions, public rooms): never "no limit". */
const MAX_LIST = 200

function documentedReply(reply: FuzzReply, op: Operation): string | null {
  if (!op.responses.includes(reply.status)) return `${reply.status}, which the document does not list for ${op.key} (${op.responses.join(', ')})`
  const schema = op.responseSchemas[reply.status]
  if (!schema || (!KNOWN_BUG_CASES.untypedJsonReplies && schema.type === undefined && !schema.anyOf && !schema.properties)) return null
  if (!reply.contentType?.startsWith('application/json')) return `${reply.status} with content type ${reply.contentType}, where the document promises JSON`
  let parsed: unknown
  try {
    parsed = JSON.parse(reply.text)
  } catch {
    return `${reply.status} with a body that is not JSON: ${JSON.stringify(reply.text.slice(0, 100))}`
  }
  if (Array.isArray(parsed) && parsed.length > MAX_LIST) return `${reply.status} with a list of ${parsed.length}, more than any limit allows (${MAX_LIST})`
  const violation = schemaViolation(parsed, schema)
  return violation && `${reply.status} unlike its documented schema: ${violation}`
}

/** A request as text that says how to send it again (long bodies cut, with their length: the failures file has them whole). */
export function describeRequest(req: FuzzRequest): string {
  const lines = [`${req.method} ${req.path}   [${req.operation}: ${req.variant.join(' + ')}]`]
  for (const [k, v] of Object.entries(req.headers)) lines.push(`${k}: ${v.length > 200 ? `${v.slice(0, 200)}… (${v.length} chars)` : v}`)
  if (req.body) {
    const shown = JSON.stringify(req.body)
    lines.push(shown.length > 500 ? `body ${shown.slice(0, 500)}… (${shown.length} chars)` : `body ${shown}`)
  }
  return lines.join('\n  ')
}

export interface FuzzFailure {
  request: FuzzRequest
  problem: string
}

export interface FuzzRun {
  sent: number
  failures: FuzzFailure[]
  statuses: Map<number, number>
  /** Operations that answered at least one request with a 2xx (the valid requests reached them). */
  succeeded: Set<string>
  /** Event streams that answered 200 (and were dropped after their first bytes). */
  streamsOpened: number
}

/**
 * Sends requests with a few in flight at once and judges each reply. `requests` may be a list,
 * or a generator for runs bounded by time; `concurrency` keeps a 2-core box usable.
 */
export type Check = (req: FuzzRequest, reply: FuzzReply) => string | null

export async function runRequests(
  url: string,
  requests: Iterable<FuzzRequest>,
  options: { concurrency?: number; checks?: Check[]; operations?: Operation[] } = {},
): Promise<FuzzRun> {
  const byKey = new Map(options.operations?.map((op) => [op.key, op]))
  const checks: Check[] = [(req, reply) => problemWith(req, reply, byKey.get(req.operation)), ...(options.checks ?? [])]
  const run: FuzzRun = { sent: 0, failures: [], statuses: new Map(), succeeded: new Set(), streamsOpened: 0 }
  const iterator = requests[Symbol.iterator]()
  const worker = async () => {
    for (let step = iterator.next(); !step.done; step = iterator.next()) {
      const request = step.value
      run.sent++
      try {
        const reply = await send(url, request)
        run.statuses.set(reply.status, (run.statuses.get(reply.status) ?? 0) + 1)
        if (reply.status < 300) run.succeeded.add(request.operation)
        if (reply.status === 200 && reply.contentType?.startsWith('text/event-stream')) run.streamsOpened++
        for (const check of checks) {
          const problem = check(request, reply)
          if (problem) run.failures.push({ request, problem })
        }
      } catch (error) {
        run.failures.push({ request, problem: `no answer: ${error instanceof Error ? error.message : String(error)}` })
      }
    }
  }
  await Promise.all(Array.from({ length: options.concurrency ?? 6 }, worker))
  return run
}
