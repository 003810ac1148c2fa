import { h } from './dom.ts'
import { arrowKeys, openPopover } from './popover.ts'

export interface MenuItem {
  label: string
  icon: () => SVGSVGElement
  danger?: boolean
  /** Set for a choice among several (role `menuitemradio`): whether it is the one chosen. */
  checked?: boolean
  run(): void
}

/**
 * A menu (role `menu`) of `items` by its button; the chosen item of a choice, or else the
 * first, takes the focus.
 */
export function openMenu(anchor: HTMLElement, label: string, items: MenuItem[]): void {
  const buttons = items.map((item) =>
    h(
      'button',
      {
        type: 'button',
        role: item.checked === undefined ? 'menuitem' : 'menuitemradio',
        'aria-checked': item.checked === undefined ? null : String(item.checked),
        class: `menu__item${item.danger ? ' menu__item--danger' : ''}`,
        onclick: () => {
          popover.close()
          item.run()
        },
      },
      item.icon(),
      item.label,
    ),
  )
  const panel = h('div', { class: 'menu', role: 'menu', 'aria-label': label }, ...buttons)
  arrowKeys(panel, () => buttons, { next: ['ArrowDown'], previous: ['ArrowUp'] })
  // Tab leaves a menu, as it does in every desktop menu.
  panel.addEventListener('keydown', (event) => {
    if (event.key === 'Tab') popover.close()
  })
  const popover = openPopover(anchor, panel)
  ;(buttons[items.findIndex((item) => item.checked)] ?? buttons[0])?.focus()
}
