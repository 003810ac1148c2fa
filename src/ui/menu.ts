import { h } from './dom.ts'
import { arrowKeys, openPopover } from './popover.ts'

export interface MenuItem {
  label: string
  icon: () => SVGSVGElement
  danger?: boolean
  run(): void
}

/** A menu (role `menu`) of `items` by its button; the first item takes the focus. */
export function openMenu(anchor: HTMLElement, label: string, items: MenuItem[]): void {
  const buttons = items.map((item) =>
    h(
      'button',
      {
        type: 'button',
        role: 'menuitem',
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
  buttons[0]?.focus()
}
