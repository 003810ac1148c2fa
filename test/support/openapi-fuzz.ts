/**
 * Requests generated from the OpenAPI document with fast-check, for every operation: valid ones
 * (values from the schemas, ids of real rows the caller may use) and hostile ones (one or two
 * mutations of a valid one: wrong types, missing and extra fields, odd numbers and strings, bad
 * bodies, content types and headers). Shared by test/fuzz.test.ts (fixed seed, bounded count)
 * and scripts/fuzz.ts (random seed, longer runs). Generation is seeded and deterministic for a
 * given document and context; fuzz-send.ts sends the requests and judges the replies.
 */
import fc from 'fast-check'
import { fillPath, integerSchema, numberSchema, pathParams, type Operation, type Schema } from './openapi-operations'


export type FuzzBody = { text: string } | { base64: string } | { multipart: Record<string, string | { filename: string; type: string; text: string }> }

/** One request, exactly as it is sent: print it, store it, send it again. */
export interface FuzzRequest {
  /** The operation it was generated from, and what was done to a valid request ('valid': nothing). */
  operation: string
  variant: string[]
  method: string
  /** Path and query, already percent-encoded (or deliberately not). */
  path: string
  headers: Record<string, string>
  body?: FuzzBody
}

/** What the generators know about the server they fuzz. */
export interface FuzzContext {
  /** The caller's session token. */
  token: string
  /** Other sessions of the caller, for operations that end the session they are sent with. */
  spareTokens: string[]
  /** Coherent sets of real values, by parameter or field name (`{roomId, messageId, userId}`). */
  targets: Record<string, string | number>[]
  /** Targets of their own for operations that destroy what they name, so the others keep theirs. */
  disposableTargets: Record<string, string | number>[]
  /** Operation keys (`POST /api/auth/logout`) that end the calling session. */
  sessionEnding: Set<string>
}

/** Operations that end the session that calls them: they get a spare session, never the caller's. */
export const SESSION_ENDING = new Set(['POST /api/auth/logout'])

/** Operations that remove what their path names (a room, a message, the caller's place in a room). */
export const destroys = (op: Operation) => op.method === 'DELETE' || op.path.endsWith('/leave')

// ---------------------------------------------------------------------------------------------
// Hostile values

/**
 * Cases that answer wrongly today, kept out of the fuzz until fixed. Each is a bug: set its flag
 * to true (here, or all of them with scripts/fuzz.ts --known-bugs) to send or check the case.
 */
export const KNOWN_BUG_CASES = {
  /**
   * A request line or headers over Bun's 16 KiB limit (a 100 KB query or header) is answered
   * by Bun itself with `431` and an empty body, no JSON: the contract's "every response"
   * (Conventions) does not hold for it.
   */
  oversizedHead: false,
  /**
   * A 2xx documented as `application/json` with a schema that states no type, which the route
   * does not answer as JSON: `GET /api/chat/attachments/{id}/{name}` documents "the bytes" as
   * JSON (Elysia's default content type for a response schema). When off, such a reply's
   * content type is not checked.
   */
  untypedJsonReplies: false,
}

/** Strings that are not plain decimal integers, or are out of range, for id, cursor and limit slots. */
const ODD_NUMERALS = [
  '0', '-0', '-1', '1.5', '1.0', '1e3', '0x10', '0o7', '0b1', 'NaN', 'Infinity', '-Infinity', '+1', '01', '1_000',
  ' 1', '1 ', '١', '１', 'true', 'null', '[]', '{}', '', '9007199254740992', '99999999999999999999999',
  '-9223372036854775808', '18446744073709551616', '1' + '0'.repeat(400),
]

/** Path or query text sent as is: broken or surprising percent-encoding, traversal, injection. */
const RAW_SEGMENTS = ['%', '%2', '%ZZ', '%00', '%FF', '%ED%A0%80', '%C0%AF', '%E2%80%AE', '..', '%2E%2E', '..%2F..%2Fetc%2Fpasswd', '%252F', '1%20OR%201=1', '1;DROP%20TABLE%20messages']

const ODD_STRINGS = [
  '\u0000', 'a\u0000b', '\uD800', '\uDC00', 'a\uD800b', '\uDFFF\uD800', '\u202Eevil.exe', '\u200F\u200E', '\u200B', '\uFEFF',
  '👍🏽', '👨‍👩‍👧', 'e\u0301', 'Z\u0334\u0321\u031B\u034E', '\r\n', ' ', '\t\t', '', 'null', '<script>alert(1)</script>',
  "'; DROP TABLE messages; --", '%s%n%x', '${7*7}', '../../etc/passwd', '\\', '"', '\u0085', '\u2028',
]

/** Text of many sizes and kinds, up to 100 KB (over the 64 KiB body limit once in JSON). */
export const oddString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...ODD_STRINGS) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.array(fc.constantFrom(...ODD_STRINGS), { minLength: 2, maxLength: 8 }).map((parts) => parts.join('')) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom(65, 101, 4001, 20_000, 70_000, 100_000), fc.constantFrom('x', 'é', '😀', '\u0000', '\uD800', ' '))
      .map(([n, c]) => c.repeat(n)),
  },
)

/** A JSON value of any type, for a field that expects another. */
const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, true, false, 0, -1, 1.5, -0, 1e308, -1e308, 2 ** 53, 2 ** 64, '', '1', 'x', [], {}, [1], { $gt: '' }, JSON.parse('{"__proto__":{"admin":true}}')),
  fc.jsonValue({ maxDepth: 3 }),
)

/**
 * Numbers JSON can carry that no id or count accepts, numerals sent as strings ("0x10", "1e3"),
 * and numbers JSON cannot carry (sent as raw text).
 */
const oddNumber: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(-1, 0, -0, 0.5, 1.5, 1e21, 2 ** 53, 2 ** 53 + 2, 2 ** 63, -(2 ** 63), Number.MAX_VALUE, Number.MIN_VALUE, -1e308),
  fc.integer({ min: -(2 ** 31), max: 0 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(...ODD_NUMERALS),
)
const UNJSON_NUMBERS = ['NaN', 'Infinity', '-Infinity', '0x10', '1e999', '-', '+1', '01', '.5', '1.', '1e', '--1', '00']

/** Bodies that are not a JSON object: malformed, other types, other encodings. */
const ODD_BODIES: fc.Arbitrary<FuzzBody> = fc.oneof(
  fc.constantFrom('', ' ', '{', '{"a":', '{"a":1,}', "{'a':1}", '{a:1}', '[]', '[1,2]', '"x"', '1', 'true', 'null', '{}{}', '\uFEFF{}', '{"a":1}garbage', '[' .repeat(5000) + ']'.repeat(5000), '{"a":"\\ud800"}', '{"a":"\\u0000"}', '{"__proto__":{"admin":true}}').map((text) => ({ text })),
  fc.jsonValue({ maxDepth: 4 }).map((v) => ({ text: JSON.stringify(v) ?? 'null' })),
  // Invalid UTF-8 inside a JSON string: a lone continuation byte, an overlong slash, a surrogate,
  // bytes UTF-8 never uses, a code point past U+10FFFF.
  fc.constantFrom([0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xff, 0xfe], [0xf4, 0x90, 0x80, 0x80]).map((bytes) => ({
    base64: Buffer.from([...Buffer.from('{"content":"'), ...bytes, ...Buffer.from('","name":"x"}')]).toString('base64'),
  })),
)

const ODD_CONTENT_TYPES = [
  'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/jsonx',
  'application/json; charset=utf-16', 'application/json;;', 'json', '*/*', '', 'application/octet-stream', 'APPLICATION/JSON', 'application/merge-patch+json',
]

const ODD_AUTH: fc.Arbitrary<Record<string, string>> = fc.oneof(
  fc.constantFrom<Record<string, string>>(
    {},
    { authorization: 'Bearer' },
    { authorization: 'Bearer ' },
    { authorization: 'Basic YWxpY2U6cGFzc3dvcmQ=' },
    { authorization: 'Bearer ../../etc/passwd' },
    { authorization: 'Bearer a b' },
    { authorization: 'bearer\tdeadbeef' },
    { authorization: `Bearer ${'a'.repeat(4000)}` },
    { authorization: 'Bearer \u00ff\u00fe' },
    { cookie: 'chat_session=' },
    { cookie: 'chat_session=%00%ff;;==' },
    { cookie: 'chat_session=x; chat_session=y' },
  ),
  fc.stringMatching(/^[\x21-\x7e]{0,80}$/).map((t) => ({ authorization: `Bearer ${t}` })),
)

const LAST_EVENT_IDS = ['abc', '-1', '1e3', '0x10', '1.5', ' ', '99999999999999999999', '9007199254740993', '\u00ff', '0', '1', '00001', `${'9'.repeat(400)}`]

const EXTRA_KEYS = ['__proto__', 'constructor', 'prototype', 'id', 'ownerId', 'senderId', 'role', 'admin', 'messageType', 'createdAt', '', 'x'.repeat(300), '\u0000']

// ---------------------------------------------------------------------------------------------
// Valid values

/**
 * Rules the schemas state only in prose (their descriptions), by field name, so that valid
 * requests are valid. A field without a hint is generated from its schema alone.
 */
const FIELD_HINTS: Record<string, fc.Arbitrary<unknown>> = {
  username: fc.stringMatching(/^[a-z0-9_.-]{3,32}$/),
  password: fc.string({ minLength: 8, maxLength: 40, unit: 'grapheme-ascii' }),
  currentPassword: fc.string({ minLength: 8, maxLength: 40, unit: 'grapheme-ascii' }),
  newPassword: fc.string({ minLength: 8, maxLength: 40, unit: 'grapheme-ascii' }),
  displayName: nonBlank(64),
  name: nonBlank(100),
  content: nonBlank(500),
  clientMessageId: fc.uuid(),
  emoji: fc.constantFrom('👍', '🎉', '+1', '❤️', 'ok', '👨‍👩‍👧'),
  q: fc.stringMatching(/^[a-z]{1,8}$/),
  lastEventId: fc.nat(5000).map(String),
  level: fc.constantFrom('all', 'mentions', 'none'),
}

/** Text that is not blank, plain or with odd characters inside (NUL, lone surrogates, RTL marks, emoji). */
function nonBlank(maxLength: number) {
  const odd = fc.array(fc.oneof(fc.constantFrom(...ODD_STRINGS), fc.string({ minLength: 1, maxLength: 3, unit: 'grapheme' })), { minLength: 1, maxLength: 6 })
  return fc
    .oneof(fc.string({ minLength: 1, maxLength, unit: 'grapheme' }), odd.map((parts) => `x${parts.join('')}`))
    .filter((s) => s.trim().length > 0 && [...s].length <= maxLength)
}

// ---------------------------------------------------------------------------------------------
// Drafts: a request before it is encoded, so mutations work on its parts.

interface Draft {
  method: string
  path: Record<string, string>
  query: [string, string][]
  /** The caller's token as a bearer header or as the session cookie, or these headers instead. */
  auth: 'session' | 'cookie' | Record<string, string>
  headers: Record<string, string>
  /** An object is sent as JSON; a FuzzBody as given. */
  body?: { json: unknown } | FuzzBody
  contentType?: string
  variant: string[]
}

type Mutation = (draft: Draft) => void

/** Percent-encodes any string, lone surrogates too (as the bytes WTF-8 would give them). */
function percentEncode(text: string): string {
  let out = ''
  for (const unit of text) {
    const code = unit.codePointAt(0)!
    if (code >= 0xd800 && code <= 0xdfff) out += `%${(0xe0 | (code >> 12)).toString(16)}%${(0x80 | ((code >> 6) & 0x3f)).toString(16)}%${(0x80 | (code & 0x3f)).toString(16)}`.toUpperCase()
    else out += encodeURIComponent(unit)
  }
  return out
}

/** A path or query value that is not a valid one: odd numerals, odd strings, broken encoding. */
const oddSlot: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...ODD_NUMERALS).map(percentEncode) },
  { weight: 2, arbitrary: fc.constantFrom(...RAW_SEGMENTS) },
  // Kept under Bun's 16 KiB request-head limit unless KNOWN_BUG_CASES.oversizedHead is on.
  { weight: 2, arbitrary: oddString.filter((s) => KNOWN_BUG_CASES.oversizedHead || s.length <= 1000).map(percentEncode) },
  { weight: 1, arbitrary: fc.integer({ min: -(2 ** 40), max: 2 ** 40 }).map(String) },
)

const enc = (value: unknown) => percentEncode(String(value))

/** A valid value of a schema (or of the field's hint), within the bounds the schema states. */
function schemaValue(schema: Schema, name: string): fc.Arbitrary<unknown> {
  const hint = FIELD_HINTS[name]
  if (hint) return hint
  if (schema.const !== undefined) return fc.constant(schema.const)
  if (schema.enum) return fc.constantFrom(...schema.enum)
  const anyOf = schema.anyOf?.filter((s) => !integerSchema(schema) || s.type === 'integer')
  if (anyOf?.length) return fc.oneof(...anyOf.map((s) => schemaValue({ ...schema, anyOf: undefined, ...s }, name)))
  const type = Array.isArray(schema.type) ? schema.type : [schema.type]
  const kinds = type.filter((t) => t !== 'null')
  if (kinds.length > 1) return fc.oneof(...kinds.map((t) => schemaValue({ ...schema, type: t }, name)))
  const min = schema.minimum
  switch (kinds[0]) {
    case 'integer':
      return fc.integer({ min: Math.max(min ?? 0, -(2 ** 31)), max: Math.min(schema.maximum ?? (min ?? 0) + 300, (min ?? 0) + 5000) })
    case 'number':
      return fc.double({ min: min ?? 0, max: schema.maximum ?? 1000, noNaN: true })
    case 'boolean':
      return fc.boolean()
    case 'string':
      return fc.string({ minLength: schema.minLength ?? 0, maxLength: Math.min(schema.maxLength ?? 40, 200), unit: 'grapheme' })
    case 'array':
      return fc.array(schemaValue(schema.items ?? {}, name), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 5, 5) })
    case 'object':
      return objectValue(schema, {})
  }
  return fc.jsonValue({ maxDepth: 2 })
}

function objectValue(schema: Schema, target: Record<string, string | number>): fc.Arbitrary<Record<string, unknown>> {
  const props = schema.properties ?? {}
  const model: Record<string, fc.Arbitrary<unknown>> = {}
  for (const [key, prop] of Object.entries(props)) {
    const real = target[key]
    model[key] = real !== undefined ? fc.oneof({ weight: 3, arbitrary: fc.constant(real) }, { weight: 1, arbitrary: schemaValue(prop, key) }) : schemaValue(prop, key)
  }
  return fc.record(model, { requiredKeys: schema.required?.filter((k) => k in props) ?? [] }) as fc.Arbitrary<Record<string, unknown>>
}

/** A valid request of the operation, aimed at one of the context's targets. */
function validDraft(op: Operation, ctx: FuzzContext): fc.Arbitrary<Draft> {
  const names = pathParams(op.path)
  const query = op.parameters.filter((p) => p.in === 'query')
  return fc.constantFrom(...(destroys(op) ? ctx.disposableTargets : ctx.targets)).chain((target) => {
    const path = fc.record(
      Object.fromEntries(
        names.map((name) => {
          const schema = op.parameters.find((p) => p.name === name && p.in === 'path')?.schema ?? {}
          const real = target[name]
          return [name, (real !== undefined ? fc.constant(real) : schemaValue(schema, name)).map(enc)]
        }),
      ),
    ) as fc.Arbitrary<Record<string, string>>
    const queryValues = fc.tuple(
      ...query.map((p) => {
        const real = target[p.name]
        const value = real !== undefined ? fc.constant(real) : schemaValue(p.schema, p.name)
        return p.required ? value.map((v) => [p.name, enc(v)] as [string, string]) : fc.option(value.map((v) => [p.name, enc(v)] as [string, string]), { nil: undefined })
      }),
    )
    const body = op.body ? bodyValue(op.body, target) : fc.constant(undefined)
    return fc.record({ path, query: queryValues, body }).map(
      ({ path, query, body }): Draft => ({
        method: op.method,
        path,
        query: query.filter((q): q is [string, string] => q !== undefined),
        auth: 'session',
        headers: {},
        body,
        contentType: op.body?.contentType,
        variant: ['valid'],
      }),
    )
  })
}

function bodyValue(spec: NonNullable<Operation['body']>, target: Record<string, string | number>): fc.Arbitrary<Draft['body']> {
  if (spec.contentType === 'multipart/form-data') {
    return fc.record({ name: fc.stringMatching(/^[a-z]{1,12}\.(txt|png|bin)$/), text: fc.string({ maxLength: 200 }) }).map(({ name, text }) => ({
      multipart: Object.fromEntries(Object.keys(spec.schema.properties ?? { file: {} }).map((key) => [key, { filename: name, type: 'text/plain', text }])),
    }))
  }
  return objectValue(spec.schema, target).map((json) => ({ json }))
}

/** Mutations that make a valid request of this operation hostile. */
function mutations(op: Operation, allMethods: string[]): fc.WeightedArbitrary<{ name: string; apply: Mutation }>[] {
  const out: fc.WeightedArbitrary<{ name: string; apply: Mutation }>[] = []
  // Weights: the fields a route reads (path, query, body) are tried more often than the rest.
  const m = (name: string, arb: fc.Arbitrary<Mutation>, weight = 1) => out.push({ weight, arbitrary: arb.map((apply) => ({ name, apply })) })

  for (const name of pathParams(op.path)) m(`path ${name}`, oddSlot.map((v) => (d) => void (d.path[name] = v)), 3)
  for (const p of op.parameters.filter((p) => p.in === 'query')) {
    m(`query ${p.name}`, oddSlot.map((v) => (d) => void (d.query = [...d.query.filter(([k]) => k !== p.name), [p.name, v]])), 3)
    m(`query ${p.name} twice`, fc.tuple(oddSlot, fc.nat(3)).map(([v, n]) => (d) => void d.query.push(...Array.from({ length: n + 1 }, () => [p.name, v] as [string, string]))))
  }
  m('query extra', fc.tuple(fc.constantFrom(...EXTRA_KEYS.filter((k) => k.length < 100), 'limit', 'q'), oddSlot).map(([k, v]) => (d) => void d.query.push([percentEncode(k), v])))

  const props = op.body?.contentType === 'application/json' ? (op.body.schema.properties ?? {}) : {}
  const jsonOf = (d: Draft): Record<string, unknown> | undefined => {
    const body = d.body
    return body && 'json' in body && typeof body.json === 'object' && body.json !== null ? (body.json as Record<string, unknown>) : undefined
  }
  for (const [key, schema] of Object.entries(props)) {
    m(`body ${key} missing`, fc.constant((d) => void delete jsonOf(d)?.[key]))
    m(`body ${key} wrong type`, anyJson.map((v) => (d) => void (jsonOf(d) && (jsonOf(d)![key] = v))), 2)
    if (numberSchema(schema)) {
      m(`body ${key} odd number`, oddNumber.map((v) => (d) => void (jsonOf(d) && (jsonOf(d)![key] = v))), 3)
      m(`body ${key} unjson number`, fc.constantFrom(...UNJSON_NUMBERS).map((v) => (d) => {
        const json = jsonOf(d)
        d.body = { text: JSON.stringify({ ...json, [key]: '@@' }).replace('"@@"', v) }
      }))
    } else {
      m(`body ${key} odd string`, oddString.map((v) => (d) => void (jsonOf(d) && (jsonOf(d)![key] = v))), 3)
    }
  }
  if (op.body) {
    m('body extra field', fc.tuple(fc.constantFrom(...EXTRA_KEYS), anyJson).map(([k, v]) => (d) => {
      const json = jsonOf(d)
      // JSON text, so that "__proto__" is sent as an own key, as a client would send it.
      if (json) d.body = { text: JSON.stringify(json).replace(/^\{/, `{${JSON.stringify(k)}:${JSON.stringify(v) ?? 'null'}${Object.keys(json).length ? ',' : ''}`) }
    }))
    m('body not an object', ODD_BODIES.map((b) => (d) => void (d.body = b)))
    // Over the 64 KiB body limit, from just past it to megabytes: a 413 as JSON, never a hang.
    m('body oversized', fc.tuple(fc.constantFrom(65_537, 100_000, 2_000_000), fc.constantFrom('x', 'é')).map(([n, c]) => (d) => {
      d.body = { text: JSON.stringify({ ...jsonOf(d), content: c.repeat(n) }) }
    }))
    m('body missing', fc.constant((d) => void (d.body = undefined)))
  }
  if (op.method !== 'GET' && op.method !== 'HEAD') {
    m('content type', fc.constantFrom(...ODD_CONTENT_TYPES, undefined).map((t) => (d) => {
      d.body ??= { text: '{}' }
      d.contentType = t
    }))
  }
  m('credentials', ODD_AUTH.map((h) => (d) => void (d.auth = h)))
  // The browser's way: the same session as a cookie (writes then need a same-origin Origin).
  m('session cookie', fc.constant((d) => void (d.auth = 'cookie')))
  m('header', fc.constantFrom<Record<string, string>>(
    { accept: 'text/html' }, { accept: '*/*;q=0' }, { 'x-forwarded-for': 'not-an-ip, ::1' }, { 'x-forwarded-host': 'evil.example' },
    { origin: 'https://evil.example' }, { origin: 'null' }, { 'sec-fetch-site': 'cross-site' }, { range: 'bytes=0-0' },
    { 'accept-encoding': 'gzip;q=2, br, zstd' }, { 'if-none-match': '*' }, { 'content-encoding': 'gzip' },
    ...(KNOWN_BUG_CASES.oversizedHead ? [{ 'x-padding': 'a'.repeat(100_000) }] : []),
  ).map((h) => (d) => void Object.assign(d.headers, h)))
  if (op.parameters.some((p) => p.name === 'lastEventId')) {
    m('Last-Event-ID', fc.oneof(fc.constantFrom(...LAST_EVENT_IDS), fc.stringMatching(/^[\x20-\x7e]{0,30}$/)).map((v) => (d) => void (d.headers['last-event-id'] = v)))
  }
  const others = allMethods.filter((x) => x !== op.method)
  m('method', fc.constantFrom(...others).map((method) => (d) => {
    d.method = method
    if (method === 'GET' || method === 'HEAD') d.body = undefined
  }))
  return out
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'PROPFIND']

/** Requests for one operation: a quarter valid, the rest one or two mutations of a valid one. */
export function requestArbitrary(op: Operation, ctx: FuzzContext): fc.Arbitrary<FuzzRequest> {
  const valid = validDraft(op, ctx)
  const muts = mutations(op, METHODS)
  const hostile = fc.tuple(valid, fc.array(fc.oneof(...muts), { minLength: 1, maxLength: 2 })).map(([draft, applied]) => {
    const d = structuredClone(draft)
    d.variant = []
    for (const { name, apply } of applied) {
      apply(d)
      d.variant.push(name)
    }
    return d
  })
  return fc.oneof({ weight: 1, arbitrary: valid }, { weight: 3, arbitrary: hostile }).chain((d) =>
    // The valid credentials of an operation that ends its session: one of the spare sessions.
    fc.constantFrom(...(ctx.sessionEnding.has(op.key) ? ctx.spareTokens : [ctx.token])).map((token) => encode(op, d, token)),
  )
}

function encode(op: Operation, d: Draft, token: string): FuzzRequest {
  const credentials = d.auth === 'session' ? { authorization: `Bearer ${token}` } : d.auth === 'cookie' ? { cookie: `chat_session=${token}` } : d.auth
  const headers: Record<string, string> = { ...credentials, ...d.headers }
  if (d.body && d.contentType !== undefined && !('multipart' in d.body)) headers['content-type'] = d.contentType
  let body: FuzzBody | undefined
  // fetch cannot send a body with these (a mutation may have changed the method after adding one).
  if (d.method === 'GET' || d.method === 'HEAD') d.body = undefined
  if (d.body) body = 'json' in d.body ? { text: JSON.stringify(d.body.json) ?? 'null' } : d.body
  const query = d.query.length ? `?${d.query.map(([k, v]) => `${k}=${v}`).join('&')}` : ''
  return { operation: op.key, variant: d.variant, method: d.method, path: fillPath(op.path, d.path) + query, headers, body }
}
