import { h } from './dom.ts'
import type { User } from './types.ts'

// `@` and what follows it up to the caret, at the start or after a space or an opening bracket.
const QUERY = /(?:^|[\s([{])@([\p{L}\p{N}_.-]*)$/u
const MAX_SHOWN = 8

let counter = 0

/**
 * Offers the room's people while `@name` is typed in `input`: arrow keys pick, Enter or Tab
 * inserts `@username `, Escape closes. The box stays a text box for assistive technology, with
 * the list as its autocomplete popup (aria-activedescendant follows the pick).
 */
export function attachMentionAutocomplete(input: HTMLTextAreaElement, people: () => User[]) {
  counter += 1
  const listId = `mention-list-${counter}`
  const list = h('ul', { class: 'mentions-list', id: listId, role: 'listbox', 'aria-label': 'People to mention', hidden: true })
  input.setAttribute('aria-autocomplete', 'list')
  input.setAttribute('aria-controls', listId)
  let matches: User[] = []
  let active = 0
  let start = -1
  let typedBefore: string | null = null

  function query(): string | null {
    if (input.selectionStart !== input.selectionEnd) return null
    const before = input.value.slice(0, input.selectionStart)
    const match = QUERY.exec(before)
    if (!match) return null
    start = before.length - match[1]!.length - 1
    return match[1]!.toLowerCase()
  }

  function update(): void {
    const typed = query()
    if (typed === null) return close()
    if (typed !== typedBefore) active = 0
    typedBefore = typed
    const words = (user: User) => [user.username, ...user.displayName.toLowerCase().split(/\s+/)]
    matches = people()
      .filter((user) => words(user).some((word) => word.toLowerCase().startsWith(typed)))
      .slice(0, MAX_SHOWN)
    if (matches.length === 0) return close()
    active = Math.min(active, matches.length - 1)
    draw()
  }

  function draw(): void {
    list.replaceChildren(
      ...matches.map((user, index) =>
        h(
          'li',
          {
            id: `${listId}-${index}`,
            role: 'option',
            class: `mentions-list__option${index === active ? ' mentions-list__option--active' : ''}`,
            'aria-selected': String(index === active),
            // The box keeps the focus (and the caret) while a person is picked with the mouse.
            onmousedown: (event: MouseEvent) => event.preventDefault(),
            onclick: () => choose(index),
          },
          h('span', { class: 'mentions-list__name' }, user.displayName),
          h('span', { class: 'mentions-list__username' }, `@${user.username}`),
        ),
      ),
    )
    list.hidden = false
    input.setAttribute('aria-activedescendant', `${listId}-${active}`)
  }

  function close(): void {
    if (list.hidden) return
    list.hidden = true
    matches = []
    typedBefore = null
    input.removeAttribute('aria-activedescendant')
  }

  function choose(index: number): void {
    const user = matches[index]
    if (!user) return
    const caret = input.selectionStart
    const inserted = `@${user.username} `
    input.setRangeText(inserted, start, caret, 'end')
    close()
    input.focus()
    input.dispatchEvent(new Event('input', { bubbles: true }))
  }

  // Registered before the composer's own keys, so Enter picks a person instead of sending.
  input.addEventListener('keydown', (event) => {
    if (list.hidden || event.isComposing) return
    const handled = ['ArrowDown', 'ArrowUp', 'Enter', 'Tab', 'Escape'].includes(event.key) && !event.shiftKey
    if (!handled) return
    event.preventDefault()
    event.stopImmediatePropagation()
    if (event.key === 'ArrowDown') active = (active + 1) % matches.length
    else if (event.key === 'ArrowUp') active = (active - 1 + matches.length) % matches.length
    else if (event.key === 'Escape') return close()
    else return choose(active)
    draw()
  })
  input.addEventListener('input', update)
  input.addEventListener('click', update)
  input.addEventListener('blur', close)

  return {
    element: list,
    get open(): boolean {
      return !list.hidden
    },
    close,
  }
}
