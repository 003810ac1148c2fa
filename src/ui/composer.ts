import { h } from './dom.ts'
import { closeIcon, replyIcon, sendIcon } from './icons.ts'
import { attachMentionAutocomplete } from './mention-autocomplete.ts'
import type { Message, User } from './types.ts'

export interface ComposerOptions {
  send(content: string, replyToId: number | null): void
  /** Called while the person types; throttled here to one call per TYPING_THROTTLE_MS. */
  typing(): void
  /** Arrow-Up in an empty box: edit the person's last message; false when there is none. */
  editLast(): boolean
  /** Who `@` offers: the room's participants but the person themself. */
  people(): User[]
}

// The API's limit on a message, in code points.
const MAX_LENGTH = 4000
const TYPING_THROTTLE_MS = 3_000

/** The message box: Enter sends, Shift+Enter starts a new line; a reply shows what it answers. */
export function createComposer(options: ComposerOptions) {
  const input = h('textarea', {
    class: 'composer__input',
    rows: 1,
    placeholder: 'Write a message',
    'aria-label': 'Message',
    autocomplete: 'off',
    enterkeyhint: 'send',
  })
  const mentions = attachMentionAutocomplete(input, options.people)
  const hint = h('p', { class: 'composer__hint', 'aria-live': 'polite' })
  const button = h('button', { type: 'submit', class: 'composer__send', 'aria-label': 'Send message' }, sendIcon())
  const replyAuthor = h('strong', {})
  const replyText = h('span', { class: 'composer__reply-text' })
  const replyBar = h(
    'div',
    { class: 'composer__reply', hidden: true },
    replyIcon(),
    h('span', { class: 'composer__reply-label' }, 'Replying to ', replyAuthor, replyText),
    h('button', { type: 'button', class: 'icon-button icon-button--small', 'aria-label': 'Cancel reply', title: 'Cancel reply', onclick: () => cancelReply() }, closeIcon()),
  )
  const form = h('form', { class: 'composer' }, mentions.element, replyBar, h('div', { class: 'composer__box' }, input, button), hint)
  let lastTyping = 0
  let replyToId: number | null = null

  function cancelReply(): void {
    replyToId = null
    replyBar.hidden = true
    input.focus()
  }

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
    const answering = replyToId
    replyToId = null
    replyBar.hidden = true
    options.send(content, answering)
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
    } else if (event.key === 'ArrowUp' && input.value === '' && !event.shiftKey && !event.altKey && !event.metaKey && !event.ctrlKey) {
      if (options.editLast()) event.preventDefault()
    } else if (event.key === 'Escape' && replyToId !== null) {
      event.preventDefault()
      cancelReply()
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
      replyToId = null
      replyBar.hidden = true
      mentions.close()
      input.placeholder = `Message ${label}`
      input.setAttribute('aria-label', `Message ${label}`)
    },
    /** The next message answers `message`. */
    replyTo(message: Message, author: string): void {
      replyToId = message.id
      replyAuthor.textContent = author
      replyText.textContent = message.content
      replyBar.hidden = false
      input.focus()
    },
    /** The message being answered was deleted: the reply cannot be sent as one. */
    dropReply(messageId: number): void {
      if (replyToId === messageId) {
        replyToId = null
        replyBar.hidden = true
      }
    },
    focus(): void {
      input.focus({ preventScroll: true })
    },
  }
}
