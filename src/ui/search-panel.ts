import { api, ApiError, SEARCH_PAGE_SIZE } from './api.ts'
import { h } from './dom.ts'
import { describeMessage, formatFull, formatStamp } from './format.ts'
import { highlight, matchRanges, queryWords } from './highlight.ts'
import { closeIcon, searchIcon } from './icons.ts'
import type { Message } from './types.ts'

export interface SearchPanelOptions {
  roomName(roomId: number): string
  nameOf(userId: number): string
  /** A hit was chosen: open its room at it. */
  open(message: Message): void
  /** Searching began (a query was typed) or ended (it was cleared). */
  active(on: boolean): void
}

// Typing pauses this long before the server is asked.
const DEBOUNCE_MS = 250
// API.md: 1-200 characters after trimming.
const QUERY_MAX_CHARS = 200
// A long message is shown from a little before its first hit, so the hit is in sight.
const SNIPPET_LEAD_CHARS = 60
const SNIPPET_FROM_CHARS = 140

/**
 * Message search: the box (role searchbox, `Search messages`) and, while it holds a query, the
 * hits, newest first, each with its room, sender, time and text, the words that matched marked.
 */
export function createSearchPanel(options: SearchPanelOptions) {
  const input = h('input', {
    type: 'search',
    class: 'search__input',
    placeholder: 'Search messages',
    'aria-label': 'Search messages',
    autocomplete: 'off',
    enterkeyhint: 'search',
    maxlength: QUERY_MAX_CHARS,
  })
  const clearButton = h(
    'button',
    { type: 'button', class: 'icon-button icon-button--small search__clear', 'aria-label': 'Clear search', title: 'Clear search', hidden: true, onclick: () => clear() },
    closeIcon(),
  )
  const box = h('div', { class: 'search', role: 'search' }, h('span', { class: 'search__icon' }, searchIcon()), input, clearButton)
  // Narrows the search to the open room (API.md's roomId); shown while a room is open or chosen.
  const scopeName = h('span', { class: 'search-scope__name' })
  const scope = h(
    'button',
    { type: 'button', class: 'search-scope', 'aria-pressed': 'false', hidden: true, onclick: () => toggleScope() },
    'Only in ',
    scopeName,
  )
  const status = h('p', { class: 'search-results__status', 'aria-live': 'polite' })
  const hits = h('ol', { class: 'search-results__list' })
  const more = h('button', { type: 'button', class: 'button search-results__more', hidden: true, onclick: () => void load(true) }, 'More results')
  const results = h(
    'section',
    { class: 'search-results', 'aria-label': 'Search results', hidden: true },
    h('div', { class: 'search-results__head' }, status, scope),
    hits,
    more,
  )

  let query = ''
  // The room open in the conversation, and the room the search is narrowed to (null: every room).
  let openRoomId: number | null = null
  let scopeRoomId: number | null = null
  let words: string[] = []
  let oldest: number | undefined
  // Bumped with every new query: answers to an older one are dropped.
  let asked = 0
  let timer: ReturnType<typeof setTimeout> | undefined

  function hit(message: Message): HTMLLIElement {
    const author = options.nameOf(message.senderId)
    const text = describeMessage(message, author)
    const ranges = matchRanges(text, words)
    let shown = text
    let shift = 0
    const first = ranges[0]?.[0] ?? 0
    if (first > SNIPPET_FROM_CHARS) {
      shift = first - SNIPPET_LEAD_CHARS
      shown = text.slice(shift)
    }
    const marked = highlight(shown, ranges.map(([start, end]) => [start - shift, end - shift]))
    return h(
      'li',
      {},
      h(
        'button',
        {
          type: 'button',
          class: 'search-hit',
          'data-message-id': message.id,
          onclick: (event: MouseEvent) => {
            // The hit last opened stays marked, so the list shows where the reader is.
            for (const other of hits.querySelectorAll('[aria-current]')) other.removeAttribute('aria-current')
            ;(event.currentTarget as HTMLElement).setAttribute('aria-current', 'true')
            options.open(message)
          },
        },
        h(
          'span',
          { class: 'search-hit__meta' },
          h('span', { class: 'search-hit__room' }, options.roomName(message.roomId)),
          h('span', { class: 'search-hit__author' }, author),
          h('time', { class: 'search-hit__time', datetime: message.createdAt, title: formatFull(message.createdAt) }, formatStamp(message.createdAt)),
        ),
        h('span', { class: 'search-hit__text' }, shift > 0 ? '…' : null, ...marked),
      ),
    )
  }

  async function load(next: boolean): Promise<void> {
    const ticket = asked
    more.disabled = true
    if (!next) status.textContent = 'Searching…'
    try {
      const page = await api.search(query, {
        roomId: scopeRoomId ?? undefined,
        before: next ? oldest : undefined,
      })
      if (ticket !== asked) return
      if (!next) hits.replaceChildren()
      hits.append(...page.map(hit))
      oldest = page.at(-1)?.id ?? oldest
      more.hidden = page.length < SEARCH_PAGE_SIZE
      const count = hits.childElementCount
      status.textContent = count === 0 ? `No messages match “${query}”.` : `${count}${more.hidden ? '' : '+'} ${count === 1 ? 'message' : 'messages'}`
    } catch (error) {
      if (ticket !== asked) return
      status.textContent = error instanceof ApiError ? `Search failed: ${error.status === 0 ? 'no connection' : error.message}` : 'Search failed.'
    } finally {
      if (ticket === asked) more.disabled = false
    }
  }

  function changed(): void {
    clearTimeout(timer)
    const next = input.value.trim()
    clearButton.hidden = input.value === ''
    if (next === query) return
    query = next
    results.hidden = query === ''
    options.active(query !== '')
    if (query === '') {
      asked += 1
      return
    }
    words = queryWords(query)
    restart(DEBOUNCE_MS)
  }

  /** Asks afresh, after `delay`: the query or its scope changed. */
  function restart(delay: number): void {
    clearTimeout(timer)
    asked += 1
    oldest = undefined
    more.hidden = true
    // Hits of the previous query would read as hits of this one.
    hits.replaceChildren()
    status.textContent = 'Searching…'
    timer = setTimeout(() => void load(false), delay)
  }

  function renderScope(): void {
    const roomId = scopeRoomId ?? openRoomId
    scope.hidden = roomId === null
    scope.setAttribute('aria-pressed', String(scopeRoomId !== null))
    if (roomId !== null) scopeName.textContent = options.roomName(roomId)
  }

  function toggleScope(): void {
    scopeRoomId = scopeRoomId === null ? openRoomId : null
    renderScope()
    if (query !== '') restart(0)
  }

  function clear(): void {
    input.value = ''
    changed()
    input.focus()
  }

  input.addEventListener('input', changed)
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && input.value !== '') {
      event.preventDefault()
      clear()
    } else if (event.key === 'Enter') {
      // Enter asks now instead of after the pause; ArrowDown goes to the first hit.
      clearTimeout(timer)
      if (query !== '') void load(false)
    } else if (event.key === 'ArrowDown') {
      const first = hits.querySelector<HTMLElement>('.search-hit')
      if (first) {
        event.preventDefault()
        first.focus()
      }
    }
  })
  hits.addEventListener('keydown', (event) => {
    const current = (event.target as HTMLElement).closest('li')
    const target = event.key === 'ArrowDown' ? current?.nextElementSibling : event.key === 'ArrowUp' ? current?.previousElementSibling : null
    if (event.key === 'ArrowUp' && current === hits.firstElementChild) {
      event.preventDefault()
      input.focus()
    } else if (target) {
      event.preventDefault()
      target.querySelector<HTMLElement>('.search-hit')?.focus()
    }
  })

  return {
    box,
    results,
    /** The conversation now shows `roomId` (or none): what `Only in` offers, unless already narrowed. */
    roomOpened(roomId: number | null): void {
      openRoomId = roomId
      renderScope()
    },
  }
}
