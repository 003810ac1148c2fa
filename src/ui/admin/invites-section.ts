import { accountApi, type Invite } from '../account-api.ts'
import { failureText, formatWhen } from '../account-text.ts'
import { copyField } from '../copy-field.ts'
import { errorLine } from '../dialogs/dialog.ts'
import { h } from '../dom.ts'
import { changeOnClick, listLoader } from '../reloading-list.ts'
import { adminSection } from './admin-section.ts'

const EXPIRIES: [number, string][] = [
  [24, '1 day'],
  [168, '7 days'],
  [720, '30 days'],
]
const DEFAULT_HOURS = 168

const uses = (invite: Invite): string =>
  invite.maxUses === null ? `${invite.uses} used · no limit` : `${invite.uses} of ${invite.maxUses} used`

/** Invite links that sign people up when registration is closed: make one, copy it, revoke it. */
export function createInvitesSection() {
  const list = h('ul', { class: 'admin-list', role: 'list', 'aria-label': 'Invites' })
  const status = h('p', { class: 'people__status', 'aria-live': 'polite' })
  const error = errorLine()

  const expiry = h('select', { class: 'input', id: 'invite-expiry', name: 'expiresInHours' }, ...EXPIRIES.map(([hours, label]) => h('option', { value: hours, selected: hours === DEFAULT_HOURS }, label)))
  const maxUses = h('input', { class: 'input', id: 'invite-uses', name: 'maxUses', type: 'number', min: 1, max: 1000000, inputmode: 'numeric', placeholder: 'No limit' })
  const create = h('button', { type: 'submit', class: 'button button--primary' }, 'Create invite')
  const form = h(
    'form',
    { class: 'form form--inline' },
    h('div', {}, h('label', { class: 'field', for: 'invite-expiry' }, 'Expires after'), expiry),
    h('div', {}, h('label', { class: 'field', for: 'invite-uses' }, 'Uses'), maxUses),
    h('div', { class: 'form__end' }, create),
  )
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    error.textContent = ''
    create.disabled = true
    try {
      await accountApi.createInvite(Number(expiry.value), maxUses.value ? Number(maxUses.value) : undefined)
      maxUses.value = ''
      await load()
      list.querySelector<HTMLButtonElement>('.copy-field__button')?.focus()
    } catch (failure) {
      error.textContent = failureText(failure, 'The invite could not be made.')
    } finally {
      create.disabled = false
    }
  })

  function row(invite: Invite): HTMLLIElement {
    const revoke = changeOnClick(
      h('button', { type: 'button', class: 'button button--small button--caution' }, 'Revoke'),
      error,
      () => accountApi.revokeInvite(invite.token),
      load,
      'The invite could not be revoked.',
    )
    return h(
      'li',
      { class: 'admin-row', 'data-invite': invite.token, 'aria-label': `Invite made ${formatWhen(invite.createdAt)}` },
      h('div', { class: 'admin-row__main' }, h('span', { class: 'admin-row__text' }, h('strong', {}, uses(invite)), h('small', {}, `Expires ${formatWhen(invite.expiresAt)}`)), h('span', { class: 'admin-row__actions' }, revoke)),
      h('div', { class: 'admin-row__extra admin-row__extra--flush' }, copyField(invite.url, 'Copy link', { name: 'Invite link' })),
    )
  }

  const load = listLoader(list, status, () => accountApi.invites(), row, { empty: 'No live invites.', failed: 'Invites could not be loaded.' })

  const element = adminSection('admin-invites', 'Invites', 'Anyone with a live link can make an account, even when sign-up is closed.', form, error, status, list)
  return { element, load }
}
