import { h } from './dom.ts'
import { arrowKeys, openPopover } from './popover.ts'

const COMMON = ['👍', '❤️', '😄', '🎉', '🙏', '👀', '🚀', '✅', '🔥', '😮', '😢', '👎']
// The API's rule for a reaction: 1-16 code points, no white space or control characters.
const MAX_LENGTH = 16
const INVALID = /[\s\p{Cc}]/u

/** Common emoji, and a box for any other short text (`+1`, `:shipit:`). */
export function openReactionPicker(anchor: HTMLElement, pick: (emoji: string) => void): void {
  const choose = (emoji: string) => {
    popover.close()
    anchor.focus()
    pick(emoji)
  }
  const buttons = COMMON.map((emoji) =>
    h('button', { type: 'button', class: 'picker__emoji', 'aria-label': `React with ${emoji}`, title: emoji, onclick: () => choose(emoji) }, emoji),
  )
  const input = h('input', { class: 'picker__input', type: 'text', 'aria-label': 'Custom reaction', placeholder: 'Or type one, e.g. +1', autocomplete: 'off' })
  const error = h('p', { class: 'picker__error', role: 'alert' })
  const form = h(
    'form',
    { class: 'picker__custom' },
    input,
    h('button', { type: 'submit', class: 'button button--small' }, 'Add'),
  )
  form.addEventListener('submit', (event) => {
    event.preventDefault()
    const text = input.value.trim()
    const length = [...text].length
    if (length === 0 || length > MAX_LENGTH || INVALID.test(text)) {
      error.textContent = `A reaction is 1 to ${MAX_LENGTH} characters, with no spaces.`
      return
    }
    choose(text)
  })
  const grid = h('div', { class: 'picker__grid' }, ...buttons)
  arrowKeys(grid, () => buttons, { next: ['ArrowRight', 'ArrowDown'], previous: ['ArrowLeft', 'ArrowUp'] })
  const panel = h('div', { class: 'picker', role: 'dialog', 'aria-label': 'Choose a reaction' }, grid, form, error)
  const popover = openPopover(anchor, panel)
  buttons[0]!.focus()
}
