import { h } from './dom.ts'
import { linkify } from './linkify.ts'

/**
 * `@name` candidates, as API.md reads them: not right after a letter, digit, `.`, `-`, `_` or
 * another `@` (so `bob@alice.com` is no mention), and case-insensitive.
 */
const MENTION = /(?<![\p{L}\p{N}_.@-])@([\p{L}\p{N}_.-]+)/gu
// A sentence may end right after a name: `ask @alice.` names alice.
const TRAILING = /[.-]+$/

/**
 * A message's text as nodes: links for http(s) addresses, and a highlight for each `@username`
 * the server counted as a mention (`mentioned`: lower-case username -> is it the reader).
 * Everything else stays text.
 */
export function renderText(content: string, mentioned: Map<string, boolean>): Node[] {
  if (mentioned.size === 0) return linkify(content)
  const nodes: Node[] = []
  let last = 0
  for (const match of content.matchAll(MENTION)) {
    let name = match[1]!
    if (!mentioned.has(name.toLowerCase())) name = name.replace(TRAILING, '')
    const me = mentioned.get(name.toLowerCase())
    if (me === undefined) continue
    if (match.index > last) nodes.push(...linkify(content.slice(last, match.index)))
    nodes.push(h('span', { class: me ? 'mention mention--me' : 'mention' }, `@${name}`))
    last = match.index + name.length + 1
  }
  if (last < content.length) nodes.push(...linkify(content.slice(last)))
  return nodes
}
