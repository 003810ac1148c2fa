import { h } from './dom.ts'

const WORD_CHAR = /[\p{L}\p{N}]/u

/** One character as search compares it: lower case, Latin accents dropped (`É` -> `e`), Hangul kept whole. */
const fold = (char: string): string =>
  char.normalize('NFD').replace(/\p{M}/gu, '').normalize('NFC').toLowerCase()

/** The words of a query as the server splits them: runs of letters and digits. */
export const queryWords = (query: string): string[] =>
  query
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .map((word) => [...word].map(fold).join(''))

/**
 * Where the words of `text` that start with a query word are: [start, end) in UTF-16 indices
 * of `text`, ascending and apart. Matching follows API.md's search: the start of a word,
 * ignoring case and Latin accents (`Cafe` marks `café`, `deploy` marks `deployment`).
 */
export function matchRanges(text: string, words: string[]): [number, number][] {
  if (words.length === 0) return []
  // The folded text, and for each of its UTF-16 units the index in `text` it came from.
  let folded = ''
  const origin: number[] = []
  for (let index = 0; index < text.length; ) {
    const char = String.fromCodePoint(text.codePointAt(index)!)
    const piece = fold(char)
    for (let unit = 0; unit < piece.length; unit += 1) origin.push(index)
    folded += piece
    index += char.length
  }
  origin.push(text.length)

  const ranges: [number, number][] = []
  for (let at = 0; at < folded.length; ) {
    const startsWord = WORD_CHAR.test(folded[at]!) && (at === 0 || !WORD_CHAR.test(folded[at - 1]!))
    if (!startsWord || !words.some((word) => folded.startsWith(word, at))) {
      at += 1
      continue
    }
    // The whole word is marked, not only the part that was typed.
    let end = at
    while (end < folded.length && WORD_CHAR.test(folded[end]!)) end += 1
    ranges.push([origin[at]!, origin[end]!])
    at = end
  }
  return ranges
}

/** `text` as text nodes, with each matched word in a `<mark>`: built as nodes, never as markup. */
export function highlight(text: string, ranges: [number, number][]): Node[] {
  const nodes: Node[] = []
  let last = 0
  for (const [start, end] of ranges) {
    if (start > last) nodes.push(document.createTextNode(text.slice(last, start)))
    nodes.push(h('mark', { class: 'search-hit__mark' }, text.slice(start, end)))
    last = end
  }
  if (last < text.length) nodes.push(document.createTextNode(text.slice(last)))
  return nodes
}
