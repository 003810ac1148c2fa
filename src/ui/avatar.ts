import { h } from './dom.ts'
import { avatarTone, initials } from './format.ts'

/** Initials on a colour of the person's own; decorative, the name is always shown beside it. */
export function avatar(id: number, name: string, size: 'small' | 'medium' = 'medium', online?: boolean): HTMLElement {
  return h(
    'span',
    { class: `avatar avatar--${size} ${avatarTone(id)}`, 'aria-hidden': 'true' },
    initials(name),
    online === undefined ? null : h('span', { class: online ? 'presence presence--online' : 'presence' }),
  )
}
