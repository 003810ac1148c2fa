/**
 * The server's operations as its OpenAPI document (`/swagger/json`) states them, for the tests
 * that walk every route (the fuzzer, the authorization matrix): a route added to the server is
 * in the list without anyone touching these tests.
 */

/** The subset of JSON Schema that Elysia's TypeBox schemas produce. */
export interface Schema {
  type?: string | string[]
  anyOf?: Schema[]
  enum?: unknown[]
  const?: unknown
  format?: string
  minimum?: number
  maximum?: number
  minLength?: number
  maxLength?: number
  minItems?: number
  maxItems?: number
  items?: Schema
  properties?: Record<string, Schema>
  required?: string[]
  description?: string
}

export interface Parameter {
  name: string
  in: 'path' | 'query' | 'header' | 'cookie'
  required: boolean
  schema: Schema
}

export interface Operation {
  /** `GET /api/chat/rooms/{roomId}`: the template as the document spells it. */
  key: string
  method: string
  path: string
  parameters: Parameter[]
  /** The request body, when the operation takes one. */
  body?: { contentType: string; schema: Schema; required: boolean }
  /** Needs a session (its security, or the document's default, names a scheme). */
  secured: boolean
  /** Statuses the document lists for it. */
  responses: number[]
  /** The JSON body the document promises for each status that has one. */
  responseSchemas: Record<number, Schema>
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options']

interface RawOperation {
  parameters?: Parameter[]
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> }
  security?: unknown[]
  responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>
}

/** Every operation of an OpenAPI 3 document, in the document's order. */
export function operationsOf(spec: { paths: Record<string, Record<string, RawOperation>>; security?: unknown[] }): Operation[] {
  const operations: Operation[] = []
  for (const [path, item] of Object.entries(spec.paths)) {
    for (const method of METHODS) {
      const raw = item[method]
      if (!raw) continue
      const [contentType, media] = Object.entries(raw.requestBody?.content ?? {})[0] ?? []
      operations.push({
        key: `${method.toUpperCase()} ${path}`,
        method: method.toUpperCase(),
        path,
        parameters: raw.parameters ?? [],
        body: contentType && media?.schema ? { contentType, schema: media.schema, required: raw.requestBody?.required ?? false } : undefined,
        secured: (raw.security ?? spec.security ?? []).length > 0,
        responses: Object.keys(raw.responses ?? {}).map(Number),
        responseSchemas: Object.fromEntries(
          Object.entries(raw.responses ?? {}).flatMap(([status, r]) => {
            const schema = r?.content?.['application/json']?.schema
            return schema ? [[Number(status), schema]] : []
          }),
        ),
      })
    }
  }
  return operations
}

export async function fetchOperations(url: string): Promise<Operation[]> {
  const res = await fetch(`${url}/swagger/json`)
  if (res.status !== 200) throw new Error(`/swagger/json: ${res.status}`)
  return operationsOf(await res.json())
}

/** The path parameters of a template, in order: `/rooms/{roomId}/x/{id}` -> roomId, id. */
export const pathParams = (template: string) => [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!)

/** A template with its parameters replaced by already-encoded values. */
export const fillPath = (template: string, values: Record<string, string>) =>
  template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = values[name]
    if (value === undefined) throw new Error(`${template}: no value for {${name}}`)
    return value
  })

/** The integer a schema describes (Elysia's `t.Numeric` is an anyOf of a string and an integer). */
export function integerSchema(schema: Schema): Schema | undefined {
  if (schema.type === 'integer') return schema
  return schema.anyOf?.find((s) => s.type === 'integer')
}

export const numberSchema = (schema: Schema): Schema | undefined =>
  integerSchema(schema) ?? (schema.type === 'number' ? schema : schema.anyOf?.find((s) => s.type === 'number'))

/**
 * Where a JSON value breaks a schema (types, required properties, enums, items), or null. Only
 * what the document states is checked: extra properties are allowed.
 */
export function schemaViolation(value: unknown, schema: Schema, at = 'body'): string | null {
  if (schema.anyOf) {
    const all = schema.anyOf.map((s) => schemaViolation(value, { ...schema, anyOf: undefined, ...s }, at))
    return all.includes(null) ? null : all[0]!
  }
  if (schema.const !== undefined && value !== schema.const) return `${at}: ${JSON.stringify(value)} is not ${JSON.stringify(schema.const)}`
  if (schema.enum && !schema.enum.includes(value)) return `${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type]
  if (types.length > 0 && !types.some((t) => isType(value, t))) return `${at}: ${JSON.stringify(value)?.slice(0, 80)} is not ${types.join(' or ')}`
  if (Array.isArray(value) && schema.items) {
    for (let i = 0; i < value.length; i++) {
      const problem = schemaViolation(value[i], schema.items, `${at}[${i}]`)
      if (problem) return problem
    }
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const object = value as Record<string, unknown>
    for (const key of schema.required ?? []) if (!(key in object)) return `${at}.${key}: missing`
    for (const [key, prop] of Object.entries(schema.properties ?? {})) {
      if (!(key in object)) continue
      const problem = schemaViolation(object[key], prop, `${at}.${key}`)
      if (problem) return problem
    }
  }
  return null
}

function isType(value: unknown, type: string): boolean {
  switch (type) {
    case 'null':
      return value === null
    case 'integer':
      return Number.isInteger(value)
    case 'number':
      return typeof value === 'number'
    case 'array':
      return Array.isArray(value)
    case 'object':
      return typeof value === 'object' && value !== null && !Array.isArray(value)
    default:
      return typeof value === type
  }
}
