import { h } from './dom.ts'
import type { StreamStatus } from './stream.ts'

/** Says when live updates are down; hidden while the stream is open or first connecting. */
export function createConnectionBanner() {
  const element = h('div', { class: 'banner', role: 'status', hidden: true })
  return {
    element,
    show(status: StreamStatus): void {
      element.hidden = status !== 'reconnecting'
      element.textContent = status === 'reconnecting' ? 'Connection lost. Reconnecting…' : ''
    },
  }
}
