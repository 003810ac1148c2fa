import { api } from '../api.ts'
import { avatar } from '../avatar.ts'
import { h } from '../dom.ts'
import type { User } from '../types.ts'

export interface UserPickerOptions {
  meId: number
  /** One click picks (a direct conversation), or each person toggles (room members). */
  mode: 'single' | 'multiple'
  pick?(user: User): void
}

const SEARCH_DELAY_MS = 150

/** Searches people by name prefix and lists them with their online state. */
export function createUserPicker(options: UserPickerOptions) {
  const selected = new Map<number, User>()
  const search = h('input', {
    type: 'search',
    class: 'input',
    placeholder: 'Search people',
    'aria-label': 'Search people',
    autocomplete: 'off',
  })
  const results = h('ul', { class: 'people', role: 'list', 'aria-label': 'People' })
  const status = h('p', { class: 'people__status', 'aria-live': 'polite' })
  const element = h('div', { class: 'picker' }, search, status, results)
  let timer: ReturnType<typeof setTimeout> | undefined
  let asked = 0

  function row(user: User): HTMLLIElement {
    const label = [avatar(user.id, user.displayName, 'small', user.online), h('span', { class: 'person__name' }, user.displayName), h('span', { class: 'person__handle' }, `@${user.username}`), h('span', { class: 'person__state' }, user.online ? 'online' : '')]
    if (options.mode === 'single') {
      return h('li', {}, h('button', { type: 'button', class: 'person', 'data-user-id': user.id, onclick: () => options.pick?.(user) }, ...label))
    }
    const checkbox = h('input', { type: 'checkbox', class: 'person__check', checked: selected.has(user.id) })
    checkbox.addEventListener('change', () => {
      if (checkbox.checked) selected.set(user.id, user)
      else selected.delete(user.id)
    })
    return h('li', {}, h('label', { class: 'person', 'data-user-id': user.id }, checkbox, ...label))
  }

  async function load(): Promise<void> {
    const mine = ++asked
    status.textContent = 'Searching…'
    try {
      const users = (await api.users(search.value.trim())).filter((user) => user.id !== options.meId)
      if (mine !== asked) return
      results.replaceChildren(...users.map(row))
      status.textContent = users.length ? '' : 'Nobody found.'
    } catch {
      if (mine === asked) status.textContent = 'People could not be loaded.'
    }
  }

  // Enter in the search box must not submit the form around it.
  search.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') event.preventDefault()
  })
  search.addEventListener('input', () => {
    clearTimeout(timer)
    timer = setTimeout(load, SEARCH_DELAY_MS)
  })
  void load()

  return {
    element,
    focus: () => search.focus(),
    selected: (): number[] => [...selected.keys()],
  }
}
