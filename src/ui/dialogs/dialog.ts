import { h, type Child } from '../dom.ts'
import { closeIcon } from '../icons.ts'

let counter = 0

/**
 * A modal built on <dialog>: the browser traps focus, Escape closes it, and the page behind is
 * inert. The element is removed once closed, so every opening starts fresh.
 */
export function openDialog(title: string, ...content: Child[]): { dialog: HTMLDialogElement; close(): void } {
  counter += 1
  const titleId = `dialog-title-${counter}`
  const dialog = h(
    'dialog',
    { class: 'dialog', 'aria-labelledby': titleId },
    h(
      'header',
      { class: 'dialog__header' },
      h('h2', { id: titleId }, title),
      h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Close', onclick: () => dialog.close() }, closeIcon()),
    ),
    ...content,
  )
  dialog.addEventListener('close', () => dialog.remove())
  // A click on the backdrop lands on the dialog element itself.
  dialog.addEventListener('click', (event) => {
    if (event.target === dialog) dialog.close()
  })
  document.body.appendChild(dialog)
  dialog.showModal()
  return { dialog, close: () => dialog.close() }
}

/** The inline error line of a dialog's form. */
export function errorLine(): HTMLParagraphElement {
  return h('p', { class: 'form-error', role: 'alert' })
}
