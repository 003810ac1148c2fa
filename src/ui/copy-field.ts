import { h } from './dom.ts'

/**
 * A value to hand on (a link, a token): shown read-only, selected on focus, with a button named
 * `label` that copies it. `secret` marks a value the server shows once.
 */
export function copyField(value: string, label: string, options: { secret?: boolean; name?: string } = {}): HTMLElement {
  const input = h('input', {
    class: 'input copy-field__value',
    readonly: true,
    value,
    'aria-label': options.name ?? label.replace(/^Copy /, ''),
    spellcheck: 'false',
    autocomplete: 'off',
  })
  input.addEventListener('focus', () => input.select())
  const status = h('span', { class: 'copy-field__status', 'aria-live': 'polite' })
  const button = h('button', { type: 'button', class: 'button copy-field__button' }, label)
  button.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(value)
      status.textContent = 'Copied'
    } catch {
      // No clipboard (permission refused, or not a secure origin): selected for a manual copy.
      input.focus()
      input.select()
      status.textContent = 'Press Ctrl+C to copy'
    }
  })
  return h(
    'div',
    { class: `copy-field${options.secret ? ' copy-field--secret' : ''}` },
    h('div', { class: 'copy-field__row' }, input, button),
    options.secret ? h('small', { class: 'field-hint' }, 'Copy it now: it is not shown again. ', status) : status,
  )
}
