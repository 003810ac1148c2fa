import { api, ApiError } from './api.ts'
import { authCard, authField } from './auth-card.ts'
import { h } from './dom.ts'
import type { User } from './types.ts'

type Mode = 'sign-in' | 'sign-up'

/** Sign in, or create an account; either way the server sets the session cookie. */
export function createAuthView(signedIn: (user: User) => void): HTMLElement {
  let mode: Mode = 'sign-in'

  const field = (id: string, label: string, input: HTMLInputElement, hint?: string) => authField(id, label, input, hint, `${id}-group`)
  const username = h('input', { id: 'auth-username', class: 'input', name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false', maxlength: 32 })
  const displayName = h('input', { id: 'auth-display-name', class: 'input', name: 'displayName', autocomplete: 'name', maxlength: 64 })
  const password = h('input', { id: 'auth-password', class: 'input', name: 'password', type: 'password', required: true, minlength: 8, maxlength: 128 })
  const error = h('p', { class: 'form-error', role: 'alert' })
  const submit = h('button', { type: 'submit', class: 'button button--primary button--wide' })
  const nameGroup = field('auth-display-name', 'Display name (optional)', displayName)
  const switcher = h('button', { type: 'button', class: 'link-button' })
  const switchText = h('span', {})
  const heading = h('h1', { class: 'auth__title' })

  const form = h(
    'form',
    { class: 'form' },
    field('auth-username', 'Username', username, 'Letters, digits, . _ and -'),
    nameGroup,
    field('auth-password', 'Password', password),
    error,
    submit,
  )
  const view = authCard(heading, form, h('p', { class: 'auth__switch' }, switchText, ' ', switcher))

  function setMode(next: Mode): void {
    mode = next
    const signUp = mode === 'sign-up'
    heading.textContent = signUp ? 'Create your account' : 'Sign in to chat'
    submit.textContent = signUp ? 'Create account' : 'Sign in'
    switchText.textContent = signUp ? 'Already have an account?' : 'New here?'
    switcher.textContent = signUp ? 'Sign in' : 'Create an account'
    nameGroup.hidden = !signUp
    password.autocomplete = signUp ? 'new-password' : 'current-password'
    form.querySelector('.field-hint')!.toggleAttribute('hidden', !signUp)
    error.textContent = ''
  }

  switcher.addEventListener('click', () => {
    setMode(mode === 'sign-in' ? 'sign-up' : 'sign-in')
    username.focus()
  })

  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    error.textContent = ''
    submit.disabled = true
    const name = username.value.trim()
    try {
      if (mode === 'sign-up') {
        await api.register(name, password.value, displayName.value.trim() || undefined)
        // Registering sets the session cookie too; signing in covers a server that does not.
        const session = await api.me().catch(() => api.login(name, password.value))
        signedIn(session.user)
      } else {
        signedIn((await api.login(name, password.value)).user)
      }
    } catch (failure) {
      error.textContent = failure instanceof ApiError ? failure.message : 'Something went wrong. Try again.'
      submit.disabled = false
    }
  })

  setMode('sign-in')
  queueMicrotask(() => username.focus())
  return view
}
