import { h } from './dom.ts'
import { describeMessage } from './format.ts'
import { closeIcon, paperclipIcon, replyIcon, sendIcon } from './icons.ts'
import { attachMentionAutocomplete } from './mention-autocomplete.ts'
import type { Attachment, Message, User } from './types.ts'
import { createUploadTray } from './upload-tray.ts'

export interface ComposerOptions {
  /** `content` may be empty when files go with it. */
  send(content: string, replyToId: number | null, attachments: Attachment[]): void
  /** The room files are uploaded to. */
  roomId(): number | null
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

/**
 * The message box: Enter sends, Shift+Enter starts a new line; a reply shows what it answers.
 * Files (picked, dropped or pasted) upload at once into the tray above it and go with the next
 * message.
 */
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
  const tray = createUploadTray({
    roomId: options.roomId,
    changed: () => {
      if (hint.dataset.reason === 'uploading' && !tray.uploading()) setHint('')
    },
  })
  const picker = h('input', { type: 'file', multiple: true, class: 'visually-hidden', tabindex: '-1', 'aria-hidden': 'true' })
  picker.addEventListener('change', () => {
    if (picker.files) tray.add([...picker.files])
    // Emptied, so that picking the same file again is a change too.
    picker.value = ''
    input.focus()
  })
  const attach = h(
    'button',
    { type: 'button', class: 'composer__attach', 'aria-label': 'Attach files', title: 'Attach files', onclick: () => picker.click() },
    paperclipIcon(),
  )
  const form = h(
    'form',
    { class: 'composer' },
    mentions.element,
    replyBar,
    tray.element,
    h('div', { class: 'composer__box' }, attach, picker, input, button),
    hint,
  )
  let lastTyping = 0
  let replyToId: number | null = null

  function cancelReply(): void {
    replyToId = null
    replyBar.hidden = true
    input.focus()
  }

  function setHint(text: string, reason = ''): void {
    hint.textContent = text
    hint.dataset.reason = reason
  }

  function submit(): void {
    const content = input.value.trim()
    if (tray.uploading()) {
      setHint('Files are still uploading: send once they are done, or cancel them.', 'uploading')
      return
    }
    const attachments = tray.uploaded()
    if (!content && attachments.length === 0) return
    const length = [...content].length
    if (length > MAX_LENGTH) {
      setHint(`This message is ${length} characters long; the limit is ${MAX_LENGTH}.`)
      return
    }
    setHint('')
    input.value = ''
    lastTyping = 0
    const answering = replyToId
    replyToId = null
    replyBar.hidden = true
    tray.sent()
    options.send(content, answering, attachments)
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
  // A pasted screenshot (or any file copied from the system) is an attachment; pasted text stays text.
  input.addEventListener('paste', (event) => {
    const files = [...(event.clipboardData?.files ?? [])]
    if (files.length === 0) return
    event.preventDefault()
    tray.add(files)
  })
  input.addEventListener('input', () => {
    if (hint.dataset.reason !== 'uploading' && hint.textContent && [...input.value].length <= MAX_LENGTH) setHint('')
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
      setHint('')
      tray.clear()
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
      replyText.textContent = describeMessage(message, author)
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
    /** Files dropped on the conversation. */
    addFiles(files: File[]): void {
      tray.add(files)
      input.focus({ preventScroll: true })
    },
  }
}
