import { badRequest } from '../errors'

/**
 * U+0000 in a path or query value (or name): a 400 naming the field. PostgreSQL cannot store
 * it in text and no field of this API needs one; bodies are checked in json-body.ts.
 */
export function refuseNul(...sources: (Record<string, unknown> | undefined)[]): void {
  for (const source of sources) {
    if (!source) continue
    for (const [key, value] of Object.entries(source)) {
      if (key.includes('\0')) throw badRequest('query: a parameter name must not contain NUL (%00) characters')
      const values = Array.isArray(value) ? value : [value]
      if (values.some((v) => typeof v === 'string' && v.includes('\0'))) throw badRequest(`${key || 'query'}: must not contain NUL (%00) characters`)
    }
  }
}
