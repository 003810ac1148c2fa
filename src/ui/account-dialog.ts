import { accountApi, type AccessToken } from './account-api.ts'
import { failureText, formatWhen } from './account-text.ts'
import { copyField } from './copy-field.ts'
import { errorLine, openDialog } from './dialogs/dialog.ts'
import { h } from './dom.ts'
import { createPushSetting } from './push-settings.ts'
import { listLoader } from './reloading-list.ts'
import type { User } from './types.ts'

const EXPIRIES: [string, string][] = [
  ['', 'Never'],
  ['30', '30 days'],
  ['90', '90 days'],
  ['365', '1 year'],
]

let fields = 0
/** A labelled input of the dialog's forms. */
function labelled(label: string, input: HTMLInputElement | HTMLSelectElement): HTMLElement {
  fields += 1
  input.id = `account-field-${fields}`
  return h('div', {}, h('label', { class: 'field', for: input.id }, label), input)
}

const section = (title: string, ...content: (Node | null)[]) =>
  h('section', { class: 'account__section', 'aria-label': title }, h('h3', { class: 'account__heading' }, title), ...content)

/**
 * The account dialog: display name, password, access tokens for scripts (a new one is shown
 * once, to copy) and push notifications on this device. `renamed` hears the new name.
 */
export function openAccountDialog(me: User, renamed: (user: User) => void): void {
  const nameInput = h('input', { class: 'input', name: 'displayName', required: true, maxlength: 64, autocomplete: 'name', value: me.displayName })
  const nameError = errorLine()
  const nameStatus = h('p', { class: 'form-status', role: 'status' })
  const nameForm = h(
    'form',
    { class: 'form' },
    labelled('Display name', nameInput),
    nameError,
    h('div', { class: 'form__row' }, h('button', { type: 'submit', class: 'button button--primary' }, 'Save name'), nameStatus),
  )
  nameForm.addEventListener('submit', async (event) => {
    event.preventDefault()
    nameError.textContent = nameStatus.textContent = ''
    const name = nameInput.value.trim()
    if (!name) return void (nameError.textContent = 'Give a name to show.')
    try {
      const { user } = await accountApi.updateMe(name)
      renamed(user)
      nameStatus.textContent = 'Saved'
    } catch (failure) {
      nameError.textContent = failureText(failure, 'The name could not be saved.')
    }
  })

  const current = h('input', { class: 'input', type: 'password', name: 'currentPassword', required: true, autocomplete: 'current-password' })
  const next = h('input', { class: 'input', type: 'password', name: 'newPassword', required: true, minlength: 8, maxlength: 128, autocomplete: 'new-password' })
  const passwordError = errorLine()
  const passwordStatus = h('p', { class: 'form-status', role: 'status' })
  const passwordForm = h(
    'form',
    { class: 'form' },
    h('input', { type: 'text', name: 'username', autocomplete: 'username', value: me.username, hidden: true, readonly: true }),
    labelled('Current password', current),
    labelled('New password', next),
    h('small', { class: 'field-hint' }, 'At least 8 characters. Your other devices are signed out.'),
    passwordError,
    h('div', { class: 'form__row' }, h('button', { type: 'submit', class: 'button button--primary' }, 'Change password'), passwordStatus),
  )
  passwordForm.addEventListener('submit', async (event) => {
    event.preventDefault()
    passwordError.textContent = passwordStatus.textContent = ''
    try {
      await accountApi.changePassword(current.value, next.value)
      passwordForm.reset()
      passwordStatus.textContent = 'Password changed'
    } catch (failure) {
      passwordError.textContent = failureText(failure, 'The password could not be changed.')
    }
  })

  const tokens = createTokenList()
  const push = createPushSetting()
  const { dialog } = openDialog(
    'Account',
    h(
      'div',
      { class: 'account' },
      section('Profile', nameForm),
      section('Password', passwordForm),
      section('Notifications', push.element),
      section('Access tokens', h('p', { class: 'account__intro' }, 'For scripts and bots that use the API as you.'), tokens.element),
    ),
  )
  dialog.classList.add('dialog--wide')
  void tokens.load()
  void push.refresh()
}

/** The person's access tokens, a form for a new one, and the new token shown once. */
function createTokenList() {
  const list = h('ul', { class: 'token-list', role: 'list', 'aria-label': 'Your access tokens' })
  const status = h('p', { class: 'people__status', 'aria-live': 'polite' }, 'Loading tokens…')
  const error = errorLine()
  const fresh = h('div', { class: 'token-new', 'aria-live': 'polite' })

  const name = h('input', { class: 'input', name: 'tokenName', required: true, maxlength: 64, autocomplete: 'off' })
  const expiry = h('select', { class: 'input', name: 'expiresInDays' }, ...EXPIRIES.map(([value, label]) => h('option', { value }, label)))
  const create = h('button', { type: 'submit', class: 'button button--primary' }, 'Create token')
  const form = h('form', { class: 'form form--inline' }, labelled('Token name', name), labelled('Expires', expiry), h('div', { class: 'form__end' }, create))
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    error.textContent = ''
    const label = name.value.trim()
    if (!label) return void (error.textContent = 'Name the token after what will use it.')
    create.disabled = true
    try {
      const made = await accountApi.createToken(label, expiry.value ? Number(expiry.value) : undefined)
      form.reset()
      fresh.replaceChildren(h('p', { class: 'token-new__title' }, `New token “${made.name}”`), copyField(made.token, 'Copy token', { secret: true, name: 'New access token' }))
      await load()
    } catch (failure) {
      error.textContent = failureText(failure, 'The token could not be created.')
    } finally {
      create.disabled = false
    }
  })

  function row(token: AccessToken): HTMLLIElement {
    const revoke = h('button', { type: 'button', class: 'button button--caution', 'aria-label': `Revoke ${token.name}` }, 'Revoke')
    revoke.addEventListener('click', async () => {
      if (!confirm(`Revoke “${token.name}”? Scripts using it stop working at once.`)) return
      revoke.disabled = true
      try {
        await accountApi.revokeToken(token.id)
        await load()
      } catch (failure) {
        error.textContent = failureText(failure, 'The token could not be revoked.')
        revoke.disabled = false
      }
    })
    const expires = token.expiresAt ? `expires ${formatWhen(token.expiresAt)}` : 'never expires'
    return h(
      'li',
      { class: 'token', 'data-token-id': token.id },
      h(
        'span',
        { class: 'token__text' },
        h('strong', {}, token.name),
        h('small', {}, `Created ${formatWhen(token.createdAt)} · last used ${formatWhen(token.lastUsedAt)} · ${expires}`),
      ),
      revoke,
    )
  }

  const load = listLoader(list, status, () => accountApi.tokens(), row, { empty: 'No tokens yet.', failed: 'Tokens could not be loaded.' })

  return { element: h('div', { class: 'tokens' }, fresh, status, list, form, error), load }
}
