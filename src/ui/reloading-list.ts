import { failureText } from './account-text.ts'

/**
 * A list read from the server and drawn again after each change made from it (the account's
 * tokens, the Administration sections): `load` reads and redraws it, and says in `status` when
 * there is nothing to show or it could not be read.
 */
export function listLoader<T>(
  list: HTMLElement,
  status: HTMLElement,
  read: () => Promise<T[]>,
  row: (item: T) => HTMLElement,
  text: { empty: string; failed: string },
): () => Promise<void> {
  return async () => {
    try {
      const items = await read()
      list.replaceChildren(...items.map(row))
      status.textContent = items.length ? '' : text.empty
    } catch (failure) {
      status.textContent = failureText(failure, text.failed)
    }
  }
}

/**
 * A row's button that changes something and reloads the list: disabled meanwhile, since the
 * reload draws the row again, button and all; a refusal is shown in `error` (as the server
 * words it) and gives the button back. With `ask`, nothing happens unless the person confirms.
 */
export function changeOnClick(
  button: HTMLButtonElement,
  error: HTMLElement,
  change: () => Promise<unknown>,
  reload: () => Promise<void>,
  failed: string,
  ask?: string,
): HTMLButtonElement {
  button.addEventListener('click', async () => {
    if (ask !== undefined && !confirm(ask)) return
    error.textContent = ''
    button.disabled = true
    try {
      await change()
      await reload()
    } catch (failure) {
      error.textContent = failureText(failure, failed)
      button.disabled = false
    }
  })
  return button
}
