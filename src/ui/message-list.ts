import { clear, h } from './dom.ts'
import { renderMessage, renderPending, type ItemContext, type PendingMessage } from './message-item.ts'
import type { Message } from './types.ts'

export interface MessageListOptions extends ItemContext {
  /** Asked for when the reader nears the top and older messages exist. */
  loadOlder(): Promise<void>
}

// How close to an edge counts as "at" it, in pixels.
const NEAR_TOP = 400
const NEAR_BOTTOM = 120

interface Item {
  message: Message
  element: HTMLLIElement
}

/**
 * The scrolling history of one room: stored messages in ascending id order, each id once,
 * whatever order the history pages, the live stream and the send answers bring them in;
 * unconfirmed messages of this tab below them.
 */
export function createMessageList(options: MessageListOptions) {
  const start = h('div', { class: 'messages__start' })
  const list = h('ol', { class: 'messages__list' })
  const pendingList = h('ol', { class: 'messages__pending' })
  const scroller = h('div', { class: 'messages', role: 'log', 'aria-label': 'Messages', tabindex: '0' }, start, list, pendingList)
  const jump = h(
    'button',
    { type: 'button', class: 'jump-latest', hidden: true, onclick: () => scrollToBottom() },
    'New messages ↓',
  )
  const element = h('div', { class: 'messages-pane' }, scroller, jump)

  let items: Item[] = []
  let ids = new Set<number>()
  let hasOlder = false
  let loadingOlder = false

  scroller.addEventListener('scroll', () => {
    if (isNearBottom()) jump.hidden = true
    void maybeLoadOlder()
  }, { passive: true })

  function isNearBottom(): boolean {
    return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < NEAR_BOTTOM
  }

  function scrollToBottom(): void {
    scroller.scrollTop = scroller.scrollHeight
    jump.hidden = true
  }

  function setStart(text: string, state: 'more' | 'loading' | 'start'): void {
    start.textContent = text
    start.dataset.state = state
  }

  async function maybeLoadOlder(): Promise<void> {
    // A hidden list (the phone layout shows one pane) reads as scrolled to the top: skip it.
    if (!hasOlder || loadingOlder || scroller.clientHeight === 0 || scroller.scrollTop > NEAR_TOP) return
    loadingOlder = true
    setStart('Loading older messages…', 'loading')
    try {
      await options.loadOlder()
    } finally {
      loadingOlder = false
    }
    // A short page may leave the top still in view: keep going until it is filled.
    if (hasOlder && scroller.scrollTop <= NEAR_TOP) queueMicrotask(() => void maybeLoadOlder())
  }

  /** Where `id` belongs: searched from the end, where live messages land. */
  function positionOf(id: number): number {
    let index = items.length
    while (index > 0 && items[index - 1]!.message.id > id) index -= 1
    return index
  }

  function rerender(index: number): void {
    const item = items[index]
    if (!item) return
    const element = renderMessage(item.message, items[index - 1]?.message, options)
    item.element.replaceWith(element)
    item.element = element
  }

  function insert(message: Message): boolean {
    if (ids.has(message.id)) return false
    ids.add(message.id)
    const index = positionOf(message.id)
    const element = renderMessage(message, items[index - 1]?.message, options)
    const next = items[index]
    list.insertBefore(element, next ? next.element : null)
    items.splice(index, 0, { message, element })
    rerender(index + 1)
    return true
  }

  function markOlder(more: boolean): void {
    hasOlder = more
    if (more) setStart('', 'more')
    else setStart(items.length ? 'This is the beginning of the conversation.' : 'No messages yet. Say hello!', 'start')
  }

  return {
    element,

    /** Empties the list for another room. */
    reset(): void {
      items = []
      ids = new Set()
      hasOlder = false
      clear(list)
      clear(pendingList)
      jump.hidden = true
      setStart('Loading messages…', 'loading')
    },

    /** The newest page: shown scrolled to the bottom. Messages already added live are kept. */
    showLatest(messages: Message[], more: boolean): void {
      for (const message of messages) insert(message)
      markOlder(more)
      scrollToBottom()
      void maybeLoadOlder()
    },

    /** An older page, added above without moving what the reader is looking at. */
    showOlder(messages: Message[], more: boolean): void {
      const fromBottom = scroller.scrollHeight - scroller.scrollTop
      for (const message of messages) insert(message)
      markOlder(more)
      scroller.scrollTop = scroller.scrollHeight - fromBottom
    },

    showError(text: string): void {
      setStart(text, 'start')
    },

    /** Adds a message (live or caught up); false when it is already shown. */
    add(message: Message): boolean {
      const follow = isNearBottom() || message.senderId === options.meId
      const added = insert(message)
      if (!added) return false
      if (follow) scrollToBottom()
      else if (message.id === items[items.length - 1]!.message.id) jump.hidden = false
      if (hasOlder === false && start.dataset.state === 'start') markOlder(false)
      return true
    },

    showPending(pending: PendingMessage[]): void {
      const follow = isNearBottom()
      pendingList.replaceChildren(...pending.map((entry) => renderPending(entry, options)))
      if (follow || pending.some((entry) => entry.state === 'sending')) scrollToBottom()
    },

    oldestId: (): number | undefined => items[0]?.message.id,
    newestId: (): number | undefined => items[items.length - 1]?.message.id,
    /** Renders every message again, after names became known. */
    refresh(): void {
      items.forEach((_, index) => rerender(index))
    },
  }
}

export type MessageList = ReturnType<typeof createMessageList>
