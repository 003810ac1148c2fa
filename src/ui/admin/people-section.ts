import { accountApi, ADMIN_PAGE, type Person } from '../account-api.ts'
import { avatar } from '../avatar.ts'
import { copyField } from '../copy-field.ts'
import { errorLine } from '../dialogs/dialog.ts'
import { h } from '../dom.ts'
import { changeOnClick, listLoader } from '../reloading-list.ts'
import { adminSection } from './admin-section.ts'

/** Every account, deactivated ones included, by id: the server's pages read to the end. */
export async function allPeople(): Promise<Person[]> {
  const people: Person[] = []
  for (;;) {
    const page = await accountApi.people(people.at(-1)?.id ?? 0)
    people.push(...page)
    if (page.length < ADMIN_PAGE) return people
  }
}

export const roleName = (person: Person): string => ({ admin: 'Admin', member: 'Member', bot: 'Bot' })[person.role]

/**
 * People (bots have their own section): role and status, with promote / demote, deactivate /
 * reactivate and a password reset link to copy and hand over. The server keeps the rules (the
 * last active admin stays): a refusal is shown as it says.
 */
export function createPeopleSection(meId: number) {
  const list = h('ul', { class: 'admin-list', role: 'list', 'aria-label': 'People' })
  const status = h('p', { class: 'people__status', 'aria-live': 'polite' })
  const error = errorLine()
  // Reset links stay under their person across redraws until the page is left.
  const resetLinks = new Map<number, string>()

  const action = (label: string, person: Person, run: () => Promise<unknown>, danger = false): HTMLButtonElement =>
    changeOnClick(
      h('button', { type: 'button', class: `button button--small${danger ? ' button--caution' : ''}`, 'aria-label': `${label} ${person.username}` }, label),
      error,
      run,
      load,
      'That change could not be made.',
    )

  const update = (person: Person, change: Parameters<typeof accountApi.updatePerson>[1]) => accountApi.updatePerson(person.id, change)

  function row(person: Person): HTMLLIElement {
    const me = person.id === meId
    const admin = person.role === 'admin'
    const reset = resetLinks.get(person.id)
    const promote = admin
      ? action('Demote', person, async () => {
          await update(person, { role: 'member' })
          // No longer an admin: the page starts again as a member's, without this page.
          if (me) location.replace('/')
        })
      : action('Promote', person, () => update(person, { role: 'admin' }))
    const deactivate = person.deactivated
      ? action('Reactivate', person, () => update(person, { deactivated: false }))
      : action(
          'Deactivate',
          person,
          async () => {
            if (confirm(`Deactivate ${person.displayName}? They are signed out everywhere at once.`)) await update(person, { deactivated: true })
          },
          true,
        )
    const resetLink = action('Reset password', person, async () => {
      resetLinks.set(person.id, (await accountApi.passwordReset(person.id)).url)
    })
    // Deactivating yourself would sign you out mid-page: another admin does that.
    const actions = [promote, me ? null : deactivate, person.deactivated ? null : resetLink]
    return h(
      'li',
      { class: `admin-row${person.deactivated ? ' admin-row--off' : ''}`, 'data-user-id': person.id, 'aria-label': person.username },
      h(
        'div',
        { class: 'admin-row__main' },
        avatar(person.id, person.displayName, 'small'),
        h(
          'span',
          { class: 'admin-row__text' },
          h('strong', {}, person.displayName, me ? ' (you)' : ''),
          h('small', {}, `@${person.username}`),
        ),
        h(
          'span',
          { class: 'admin-row__tags' },
          h('span', { class: `tag${admin ? ' tag--accent' : ''}` }, roleName(person)),
          h('span', { class: `tag${person.deactivated ? ' tag--off' : ' tag--ok'}` }, person.deactivated ? 'Deactivated' : 'Active'),
        ),
        h('span', { class: 'admin-row__actions' }, ...actions),
      ),
      reset
        ? h('div', { class: 'admin-row__extra' }, h('small', {}, 'One-time link, valid for 24 hours:'), copyField(reset, 'Copy link', { name: `Reset link for ${person.username}` }))
        : null,
    )
  }

  const readPeople = async () => (await allPeople()).filter((person) => person.role !== 'bot')
  const load = listLoader(list, status, readPeople, row, { empty: 'Nobody yet.', failed: 'People could not be loaded.' })

  const element = adminSection('admin-people', 'People', null, error, status, list)
  return { element, load }
}
