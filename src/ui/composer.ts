import { h } from './dom.ts'
import { sendIcon } from './icons.ts'

export interface ComposerOptions {
  send(content: string): void
  /** Called while the person types; throttled here to one call per TYPING_THROTTLE_MS. */
  typing(): void
}

// The API's limit on a message, in code points.
const MAX_LENGTH = 4000
const TYPING_THROTTLE_MS = 3_000

/** The message box: Enter sends, Shift+Enter starts a new line. */
export function createComposer(options: ComposerOptions) {
  const input = h('textarea', {
    class: 'composer__input',
    rows: 1,
    placeholder: 'Write a message',
    'aria-label': 'Message',
    autocomplete: 'off',
    enterkeyhint: 'send',
  })
  const hint = h('p', { class: 'composer__hint', 'aria-live': 'polite' })
  const button = h('button', { type: 'submit', class: 'composer__send', 'aria-label': 'Send message' }, sendIcon())
  const form = h('form', { class: 'composer' }, h('div', { class: 'composer__box' }, input, button), hint)
  let lastTyping = 0

  function submit(): void {
    const content = input.value.trim()
    if (!content) return
    const length = [...content].length
    if (length > MAX_LENGTH) {
      hint.textContent = `This message is ${length} characters long; the limit is ${MAX_LENGTH}.`
      return
    }
    hint.textContent = ''
    input.value = ''
    lastTyping = 0
    options.send(content)
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault()
    submit()
    input.focus()
  })
  input.addEventListener('keydown', (event) => {
    // isComposing: Enter that confirms an IME composition must not send.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault()
      submit()
    }
  })
  input.addEventListener('input', () => {
    if (hint.textContent && [...input.value].length <= MAX_LENGTH) hint.textContent = ''
    const now = Date.now()
    if (input.value.trim() && now - lastTyping >= TYPING_THROTTLE_MS) {
      lastTyping = now
      options.typing()
    }
  })

  return {
    element: form,
    /** Empties the box for another room and names that room for screen readers. */
    reset(label: string): void {
      input.value = ''
      hint.textContent = ''
      lastTyping = 0
      input.placeholder = `Message ${label}`
      input.setAttribute('aria-label', `Message ${label}`)
    },
    focus(): void {
      input.focus({ preventScroll: true })
    },
  }
}
