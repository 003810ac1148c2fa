import { api, ApiError } from '../api.ts'
import { h } from '../dom.ts'
import { describeMessage } from '../format.ts'
import type { Message } from '../types.ts'
import { errorLine, openDialog } from './dialog.ts'

/** Asks before a message is deleted for everyone; Cancel has the focus, so Enter keeps it. */
export function openDeleteMessageDialog(message: Message, events: { deleted(): void; closed(): void }): void {
  const error = errorLine()
  const cancel = h('button', { type: 'button', class: 'button', onclick: () => close() }, 'Cancel')
  const remove: HTMLButtonElement = h(
    'button',
    {
      type: 'button',
      class: 'button button--danger',
      onclick: async () => {
        remove.disabled = true
        try {
          await api.remove(message.roomId, message.id)
          close()
          events.deleted()
        } catch (failure) {
          remove.disabled = false
          // Deleted meanwhile (another tab, the room's owner): what was asked for is done.
          if (failure instanceof ApiError && failure.status === 404) return close()
          error.textContent = failure instanceof ApiError ? failure.message : 'The message could not be deleted.'
        }
      },
    },
    'Delete',
  )
  const { dialog, close } = openDialog(
    'Delete message?',
    h('p', { class: 'dialog__text' }, 'It will be gone for everyone in this conversation. This cannot be undone.'),
    h('blockquote', { class: 'dialog__quote' }, describeMessage(message, '')),
    error,
    h('div', { class: 'dialog__actions' }, cancel, remove),
  )
  dialog.addEventListener('close', () => events.closed())
  cancel.focus()
}
