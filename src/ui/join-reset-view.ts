import { accountApi } from './account-api.ts'
import { api } from './api.ts'
import { failureText } from './account-text.ts'
import { authCard, authField } from './auth-card.ts'
import { h } from './dom.ts'
import type { User } from './types.ts'

/** The pages of links the server makes: `/join#<token>` (an invite) and `/reset#<token>` (a new password). */
export type LinkPage = 'join' | 'reset'

/** Which link page the address is, with its token (after `#`, so it never reaches a server log). */
export function linkPage(): { page: LinkPage; token: string } | null {
  const page = location.pathname === '/join' ? 'join' : location.pathname === '/reset' ? 'reset' : null
  if (!page) return null
  return { page, token: decodeURIComponent(location.hash.slice(1)) }
}

/**
 * Signs up with an invite, or sets a new password with a reset link; either way the server sets
 * the session cookie, and `signedIn` goes on into the chat at `/` (the link is used up).
 */
export function createLinkView(page: LinkPage, token: string, signedIn: (user: User) => void): HTMLElement {
  const join = page === 'join'
  const username = h('input', { id: 'link-username', class: 'input', name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false', maxlength: 32 })
  const displayName = h('input', { id: 'link-display-name', class: 'input', name: 'displayName', autocomplete: 'name', maxlength: 64 })
  const password = h('input', { id: 'link-password', class: 'input', name: 'password', type: 'password', required: true, minlength: 8, maxlength: 128, autocomplete: 'new-password' })
  const error = h('p', { class: 'form-error', role: 'alert' })
  const submit = h('button', { type: 'submit', class: 'button button--primary button--wide' }, join ? 'Create account' : 'Set password')
  const form = h(
    'form',
    { class: 'form' },
    join ? authField('link-username', 'Username', username, 'Letters, digits, . _ and -') : null,
    join ? authField('link-display-name', 'Display name (optional)', displayName) : null,
    authField('link-password', join ? 'Password' : 'New password', password, 'At least 8 characters'),
    error,
    submit,
  )

  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    error.textContent = ''
    submit.disabled = true
    try {
      if (join) {
        await accountApi.register(token, username.value.trim(), password.value, displayName.value.trim() || undefined)
        signedIn((await api.me()).user)
      } else {
        signedIn((await accountApi.reset(token, password.value)).user)
      }
    } catch (failure) {
      error.textContent = failureText(failure, 'Something went wrong. Try again.')
      submit.disabled = false
    }
  })

  const missing = token === ''
  const view = authCard(
    h('h1', { class: 'auth__title' }, join ? 'Join the chat' : 'Set a new password'),
    h('p', { class: 'auth__lead' }, join ? 'You were invited. Choose a username and a password.' : 'Choose a new password; your other devices are signed out.'),
    missing ? h('p', { class: 'form-error', role: 'alert' }, 'This link is incomplete: open the whole link you were given.') : form,
    h('p', { class: 'auth__switch' }, h('a', { href: '/', class: 'link-button' }, join ? 'I already have an account' : 'Back to sign in')),
  )
  queueMicrotask(() => (join ? username : password).focus())
  return view
}
