/** Text rules of the API: lengths in Unicode code points; blank means empty after trimming. */

export const codePoints = (s: string): number => {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    // A high surrogate followed by a low one is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const next = s.charCodeAt(i + 1)
      if (next >= 0xdc00 && next <= 0xdfff) i++
    }
    n++
  }
  return n
}

export const isBlank = (s: string) => s.trim().length === 0

/** Checks a required text field; the message names the field. */
export function checkText(field: string, value: string, max: number): string | null {
  if (isBlank(value)) return `${field}: must not be blank`
  if (codePoints(value) > max) return `${field}: at most ${max} characters`
  return null
}
