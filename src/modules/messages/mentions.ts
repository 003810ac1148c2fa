/**
 * Mentions: `@username` in a message's content names a participant of its room.
 *
 * - Case-insensitive: usernames are stored lowercase, so `@Alice` names `alice`.
 * - The `@` must start a word: `@alice,` and `(@alice)` count, `bob@alice.com` does not (a
 *   letter, digit or e-mail local-part character before the `@` makes it an address).
 * - The name is the longest run of username characters (`[a-z0-9_.-]`) after the `@`; when
 *   that run names nobody, its trailing `.`, `_` and `-` are dropped and it is tried again,
 *   so `@alice.` at the end of a sentence counts while `@alice.com` stays `alice.com`.
 *
 * Parsing is two steps so the caller pays for the room's participants only when the content
 * has a candidate at all: `mentionNames` is pure and cheap (no `@`, no work), and
 * `resolveMentions` maps candidates to ids.
 */

/** One `@` candidate: the run after it, and the run without trailing punctuation. */
export interface MentionName {
  name: string
  trimmed: string
}

const isNameChar = (c: number) =>
  (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 /* _ */ || c === 46 /* . */ || c === 45 /* - */

/** Characters that, right before an `@`, make it part of a word or an address, not a mention. */
const BEFORE_ADDRESS = /[\p{L}\p{N}\p{M}_.+\-@]/u

/** The `@name` candidates of `content`, lowercase, in order of appearance (duplicates kept). */
export function mentionNames(content: string): MentionName[] {
  let at = content.indexOf('@')
  if (at < 0) return []
  const names: MentionName[] = []
  for (; at >= 0; at = content.indexOf('@', at + 1)) {
    if (at > 0 && BEFORE_ADDRESS.test(precedingChar(content, at))) continue
    let end = at + 1
    while (end < content.length && isNameChar(content.charCodeAt(end))) end++
    if (end === at + 1) continue
    const name = content.slice(at + 1, end).toLowerCase()
    names.push({ name, trimmed: name.replace(/[._-]+$/, '') })
    at = end - 1
  }
  return names
}

/** The ids that `names` give among `participants` (lowercase username -> id), ascending, unique. */
export function resolveMentions(names: MentionName[], participants: ReadonlyMap<string, number>): number[] {
  const ids = new Set<number>()
  for (const { name, trimmed } of names) {
    const id = participants.get(name) ?? participants.get(trimmed)
    if (id !== undefined) ids.add(id)
  }
  return [...ids].sort((a, b) => a - b)
}

/** The whole code point before index `i` (a surrogate pair is one character). */
function precedingChar(s: string, i: number): string {
  const low = s.charCodeAt(i - 1)
  if (low >= 0xdc00 && low <= 0xdfff && i >= 2) {
    const high = s.charCodeAt(i - 2)
    if (high >= 0xd800 && high <= 0xdbff) return s.slice(i - 2, i)
  }
  return s[i - 1]!
}
