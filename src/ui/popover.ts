/**
 * A panel floating by the button that opened it (a menu, the reaction picker). One is open at
 * a time; a click elsewhere, Escape, scrolling or resizing closes it, and Escape gives the focus
 * back to the button. On a phone-sized screen it is a sheet along the bottom edge instead.
 */

const GAP = 6
const MARGIN = 8
const SHEET_MAX_WIDTH = 720

export interface Popover {
  close(): void
}

let open: (Popover & { anchor: HTMLElement }) | null = null

export function openPopover(anchor: HTMLElement, panel: HTMLElement): Popover {
  open?.close()
  panel.classList.add('popover')
  document.body.appendChild(panel)
  anchor.setAttribute('aria-expanded', 'true')
  place(anchor, panel)

  const outside = (event: Event) => {
    const target = event.target as Node
    if (!panel.contains(target) && !anchor.contains(target)) close()
  }
  const key = (event: KeyboardEvent) => {
    if (event.key !== 'Escape') return
    event.preventDefault()
    event.stopPropagation()
    close()
    anchor.focus()
  }
  // Scrolling inside the panel (a long list) keeps it; scrolling what it floats over does not.
  const scrolled = (event: Event) => {
    if (!panel.contains(event.target as Node)) close()
  }
  document.addEventListener('pointerdown', outside, true)
  panel.addEventListener('keydown', key)
  document.addEventListener('scroll', scrolled, true)
  window.addEventListener('resize', close)

  function close(): void {
    if (open?.anchor === anchor && open.close === close) open = null
    anchor.setAttribute('aria-expanded', 'false')
    panel.remove()
    document.removeEventListener('pointerdown', outside, true)
    document.removeEventListener('scroll', scrolled, true)
    window.removeEventListener('resize', close)
  }
  open = { anchor, close }
  return { close }
}

/** Below the button, right edges aligned; above it when the space below is short. */
function place(anchor: HTMLElement, panel: HTMLElement): void {
  if (window.innerWidth <= SHEET_MAX_WIDTH) {
    panel.classList.add('popover--sheet')
    return
  }
  const box = anchor.getBoundingClientRect()
  const { width, height } = panel.getBoundingClientRect()
  const below = box.bottom + GAP + height <= window.innerHeight - MARGIN
  const top = below ? box.bottom + GAP : Math.max(MARGIN, box.top - GAP - height)
  const left = Math.min(Math.max(MARGIN, box.right - width), window.innerWidth - width - MARGIN)
  // Set through the CSSOM, which the content security policy allows (style attributes it does not).
  panel.style.top = `${top}px`
  panel.style.left = `${left}px`
}

/** Arrow keys, Home and End move the focus among `items`, wrapping around. */
export function arrowKeys(container: HTMLElement, items: () => HTMLElement[], keys: { next: string[]; previous: string[] }): void {
  container.addEventListener('keydown', (event) => {
    const list = items()
    const index = list.indexOf(document.activeElement as HTMLElement)
    let next: number | null = null
    if (keys.next.includes(event.key)) next = (index + 1) % list.length
    else if (keys.previous.includes(event.key)) next = (index - 1 + list.length) % list.length
    else if (event.key === 'Home') next = 0
    else if (event.key === 'End') next = list.length - 1
    if (next === null || list.length === 0) return
    event.preventDefault()
    list[next]!.focus()
  })
}
