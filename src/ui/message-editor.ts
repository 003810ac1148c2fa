import { h } from './dom.ts'

export interface MessageEditorOptions {
  /** The message's content as it is now; null once it is gone. */
  current(): string | null
  /** Saves `content`; resolves with why it failed, or null once saved. */
  save(content: string): Promise<string | null>
  /** Saved, unchanged or cancelled: the editor is done. */
  close(): void
}

/**
 * The box that stands in for a message's text while its sender edits it: Enter saves,
 * Shift+Enter starts a new line, Escape cancels; Save and Cancel buttons for touch screens.
 */
export function createMessageEditor(content: string, options: MessageEditorOptions) {
  const input = h('textarea', { class: 'editor__input', 'aria-label': 'Edit your message', rows: 1, enterkeyhint: 'done' })
  input.value = content
  const error = h('p', { class: 'editor__error', role: 'alert' })

  async function save(): Promise<void> {
    const current = options.current()
    const next = input.value.trim()
    if (current === null || next === current) return options.close()
    if (!next) {
      error.textContent = 'A message cannot be empty. Delete it instead.'
      return
    }
    input.disabled = true
    const failure = await options.save(next)
    input.disabled = false
    if (failure === null) return options.close()
    error.textContent = failure
    input.focus()
  }

  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault()
      void save()
    } else if (event.key === 'Escape') {
      event.preventDefault()
      options.close()
    }
  })
  const element = h(
    'div',
    { class: 'editor' },
    input,
    h(
      'div',
      { class: 'editor__bar' },
      h('span', { class: 'editor__hint' }, 'Enter to save · Escape to cancel'),
      h('button', { type: 'button', class: 'button button--small', onclick: () => options.close() }, 'Cancel'),
      h('button', { type: 'button', class: 'button button--small button--primary', onclick: () => void save() }, 'Save'),
    ),
    error,
  )
  return { element, input }
}
