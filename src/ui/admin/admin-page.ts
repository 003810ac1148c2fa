import { h } from '../dom.ts'
import { backIcon } from '../icons.ts'
import type { User } from '../types.ts'
import { createBotsSection } from './bots-section.ts'
import { createInvitesSection } from './invites-section.ts'
import { createPeopleSection } from './people-section.ts'

/** The address of the administration page. */
export const ADMIN_HASH = '#/admin'

/**
 * The `Administration` page (admins only: the server refuses everyone else anyway): people,
 * invites and bots. It stands over the chat while the address is `#/admin`, and the chat behind
 * it is inert, so the keyboard and screen readers stay on the page. Each visit reads afresh.
 */
export function mountAdministration(root: HTMLElement, behind: HTMLElement, me: User, leave: () => void) {
  const people = createPeopleSection(me.id)
  const invites = createInvitesSection()
  const bots = createBotsSection()
  const heading = h('h1', { class: 'admin__title', id: 'admin-title', tabindex: -1 }, 'Administration')
  const element = h(
    'main',
    { class: 'admin', 'aria-labelledby': 'admin-title', hidden: true },
    h(
      'header',
      { class: 'admin__header' },
      h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Back to chat', title: 'Back to chat', onclick: leave }, backIcon()),
      heading,
    ),
    h('div', { class: 'admin__body' }, people.element, invites.element, bots.element),
  )
  root.append(element)
  // Escape goes back, as it closes a dialog.
  element.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !event.defaultPrevented) leave()
  })

  function follow(): void {
    const open = location.hash === ADMIN_HASH
    if (open === !element.hidden) return
    element.hidden = !open
    behind.inert = open
    if (!open) return
    element.scrollTop = 0
    heading.focus()
    void Promise.all([people.load(), invites.load(), bots.load()])
  }

  window.addEventListener('hashchange', follow)
  follow()
  return {
    stop(): void {
      window.removeEventListener('hashchange', follow)
      element.remove()
    },
  }
}
