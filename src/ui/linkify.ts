import { h } from './dom.ts'

// Candidates only: each is checked with the URL parser before it becomes a link.
const URL_PATTERN = /\bhttps?:\/\/[^\s<>"']+/gi
// Punctuation that usually ends the sentence rather than the link.
const TRAILING = /[.,;:!?'"\]}>]+$/

/** Splits text into text nodes and anchors for its http(s) links. */
export function linkify(text: string): Node[] {
  const nodes: Node[] = []
  let last = 0
  for (const match of text.matchAll(URL_PATTERN)) {
    const start = match.index
    const candidate = trimLink(match[0])
    const href = safeHref(candidate)
    if (!href) continue
    if (start > last) nodes.push(document.createTextNode(text.slice(last, start)))
    nodes.push(
      h('a', { href, target: '_blank', rel: 'noopener noreferrer', class: 'message__link' }, candidate),
    )
    last = start + candidate.length
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)))
  return nodes
}

function trimLink(link: string): string {
  let trimmed = link.replace(TRAILING, '')
  // A closing parenthesis belongs to the link only when the link opened one: (see http://x/a(b)).
  while (trimmed.endsWith(')') && count(trimmed, '(') < count(trimmed, ')')) {
    trimmed = trimmed.slice(0, -1).replace(TRAILING, '')
  }
  return trimmed
}

function count(text: string, char: string): number {
  return text.split(char).length - 1
}

function safeHref(candidate: string): string | null {
  try {
    const url = new URL(candidate)
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : null
  } catch {
    return null
  }
}
