import { clear, h } from './dom.ts'
import { createMessageEditor } from './message-editor.ts'
import { renderMessage, renderPending, type MessageContext, type PendingMessage } from './message-item.ts'
import type { Message } from './types.ts'

export interface MessageListOptions extends Omit<MessageContext, 'quoted' | 'edit' | 'reveal'> {
  /**
   * Asked for when the reader nears the top and older messages exist; `far`: on the way to a
   * message further back (a reply's original, a search hit), in pages as large as the API gives.
   */
  loadOlder(far: boolean): Promise<void>
  /**
   * A reply's original that is older than the loaded history: the message, null when it is
   * gone, undefined while it is being looked up (then `resolved` is called).
   */
  earlier(roomId: number, messageId: number): Message | null | undefined
  /** Saves an edit; resolves with why it failed, or null once saved. */
  save(message: Message, content: string): Promise<string | null>
  /** The editor closed (saved or cancelled): the focus goes back to the message box. */
  editClosed(): void
}

// How close to an edge counts as "at" it, in pixels.
const NEAR_TOP = 400
const NEAR_BOTTOM = 120
const FLASH_MS = 1_600

interface Item {
  message: Message
  element: HTMLLIElement
}

interface Editor {
  id: number
  element: HTMLElement
  input: HTMLTextAreaElement
}

/**
 * The scrolling history of one room: stored messages in ascending id order, each id once,
 * whatever order the history pages, the live stream and the send answers bring them in;
 * unconfirmed messages of this tab below them.
 *
 * This list is the one place the open room's messages live. A change to one message (an edit,
 * a reaction, a deletion) replaces that message's element alone, and the view stays where the
 * reader had it: the first message in sight keeps its place on screen.
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
  let byId = new Map<number, Item>()
  // Bumped on every change of a message, so an answer that raced a newer change is not applied.
  let revisions = new Map<number, number>()
  let hasOlder = false
  let olderLoad: Promise<void> | null = null
  let editor: Editor | null = null

  const context: MessageContext = {
    ...options,
    quoted: (message) => {
      const id = message.replyToId!
      const original = byId.get(id)
      if (original) return original.message
      // Inside the loaded stretch of history and not in it: deleted.
      if (items.length && id > items[0]!.message.id) return null
      return options.earlier(message.roomId, id)
    },
    edit: (message) => void startEditing(message.id),
    reveal: (messageId) => void reveal(messageId),
  }

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

  /** One load of older messages at a time, whoever asks (the scroll, a jump to a reply). */
  function loadOlder(far = false): Promise<void> {
    if (!olderLoad) {
      setStart('Loading older messages…', 'loading')
      olderLoad = options.loadOlder(far).finally(() => (olderLoad = null))
    }
    return olderLoad
  }

  async function maybeLoadOlder(): Promise<void> {
    // A hidden list (the phone layout shows one pane) reads as scrolled to the top: skip it.
    if (!hasOlder || olderLoad || scroller.clientHeight === 0 || scroller.scrollTop > NEAR_TOP) return
    await loadOlder()
    // A short page may leave the top still in view: keep going until it is filled.
    if (hasOlder && scroller.scrollTop <= NEAR_TOP) queueMicrotask(() => void maybeLoadOlder())
  }

  /** Where `id` belongs: searched from the end, where live messages land. */
  function positionOf(id: number): number {
    let index = items.length
    while (index > 0 && items[index - 1]!.message.id > id) index -= 1
    return index
  }

  function render(index: number): HTMLLIElement {
    const item = items[index]!
    const editing = editor?.id === item.message.id ? editor.element : null
    return renderMessage(item.message, items[index - 1]?.message, context, editing)
  }

  /** Draws the message at `index` again, in place. */
  function rerender(index: number): void {
    const item = items[index]
    if (!item) return
    const typing = editor?.id === item.message.id && editor.element.contains(document.activeElement)
    const element = render(index)
    item.element.replaceWith(element)
    item.element = element
    if (typing) editor!.input.focus({ preventScroll: true })
  }

  function rerenderRepliesTo(id: number): void {
    items.forEach((item, index) => {
      if (item.message.replyToId === id) rerender(index)
    })
  }

  /**
   * Runs a change without moving what the reader sees: at the bottom the view follows the
   * newest message; otherwise the first message in sight stays where it was on screen.
   */
  function keepingView(change: () => void): void {
    if (isNearBottom()) {
      change()
      scrollToBottom()
      return
    }
    const top = scroller.getBoundingClientRect().top
    const anchor = items.find((item) => item.element.getBoundingClientRect().bottom > top)
    const before = anchor?.element.getBoundingClientRect().top
    change()
    if (!anchor || before === undefined) return
    const now = items.find((item) => item.message.id >= anchor.message.id)
    if (now) scroller.scrollTop += now.element.getBoundingClientRect().top - before
  }

  function bump(id: number): void {
    revisions.set(id, (revisions.get(id) ?? 0) + 1)
  }

  function insert(message: Message): boolean {
    if (byId.has(message.id)) return false
    const index = positionOf(message.id)
    const item: Item = { message, element: document.createElement('li') }
    items.splice(index, 0, item)
    byId.set(message.id, item)
    bump(message.id)
    item.element = render(index)
    const next = items[index + 1]
    list.insertBefore(item.element, next ? next.element : null)
    rerender(index + 1)
    rerenderRepliesTo(message.id)
    return true
  }

  /** Replaces a shown message by its newer state; false when it is not shown. */
  function replace(message: Message): boolean {
    const item = byId.get(message.id)
    if (!item) return false
    bump(message.id)
    item.message = message
    keepingView(() => {
      rerender(items.indexOf(item))
      rerenderRepliesTo(message.id)
    })
    return true
  }

  function remove(id: number): void {
    const item = byId.get(id)
    if (!item) return
    // Deleted while being edited (in another tab): the focus the editor had goes back to the box.
    const editing = editor?.id === id
    const typing = editing && editor!.element.contains(document.activeElement)
    if (editing) editor = null
    bump(id)
    keepingView(() => {
      const index = items.indexOf(item)
      items.splice(index, 1)
      byId.delete(id)
      item.element.remove()
      rerender(index)
      rerenderRepliesTo(id)
    })
    if (typing) options.editClosed()
  }

  /**
   * Adds a message (live or caught up); true when it is new here. One already shown is
   * replaced instead: a replayed message carries its state at replay time.
   */
  function add(message: Message): boolean {
    if (byId.has(message.id)) {
      replace(message)
      return false
    }
    const follow = isNearBottom() || message.senderId === options.meId
    insert(message)
    if (follow) scrollToBottom()
    else if (message.id === items[items.length - 1]!.message.id) jump.hidden = false
    if (hasOlder === false && start.dataset.state === 'start') markOlder(false)
    return true
  }

  function markOlder(more: boolean): void {
    hasOlder = more
    if (more) setStart('', 'more')
    else setStart(items.length ? 'This is the beginning of the conversation.' : 'No messages yet. Say hello!', 'start')
  }

  function startEditing(id: number): boolean {
    const item = byId.get(id)
    if (!item || !options.canEdit(item.message)) return false
    if (editor) stopEditing()
    const { element, input } = createMessageEditor(item.message.content, {
      current: () => byId.get(id)?.message.content ?? null,
      save: (content) => {
        const current = byId.get(id)
        return current ? options.save(current.message, content) : Promise.resolve(null)
      },
      close: () => stopEditing(),
    })
    editor = { id, element, input }
    keepingView(() => rerender(items.indexOf(item)))
    input.focus()
    input.setSelectionRange(input.value.length, input.value.length)
    return true
  }

  function stopEditing(): void {
    const closing = editor
    if (!closing) return
    editor = null
    const item = byId.get(closing.id)
    if (item) keepingView(() => rerender(items.indexOf(item)))
    options.editClosed()
  }

  /** False when the message is not in the room's history (deleted since it was linked). */
  async function reveal(id: number): Promise<boolean> {
    // Older than what is loaded: page back until it is (or the beginning is reached).
    while (!byId.has(id) && hasOlder && items.length && items[0]!.message.id > id) await loadOlder(true)
    const item = byId.get(id)
    if (!item) return false
    const { element } = item
    element.tabIndex = -1
    const smooth = !matchMedia('(prefers-reduced-motion: reduce)').matches
    element.scrollIntoView({ block: 'center', behavior: smooth ? 'smooth' : 'instant' })
    element.focus({ preventScroll: true })
    element.classList.add('message--flash')
    setTimeout(() => element.classList.remove('message--flash'), FLASH_MS)
    return true
  }

  return {
    element,

    /** Empties the list for another room. */
    reset(): void {
      items = []
      byId = new Map()
      revisions = new Map()
      editor = null
      hasOlder = false
      clear(list)
      clear(pendingList)
      jump.hidden = true
      setStart('Loading messages…', 'loading')
    },

    /** The newest page: shown scrolled to the bottom. Messages already added live are kept. */
    showLatest(messages: Message[], more: boolean): void {
      for (const message of messages) if (!insert(message)) replace(message)
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

    add,

    /**
     * An edit or a change of reactions. A message within the loaded stretch that is missing
     * (its `message` event was left out of a replay) is added.
     */
    update(message: Message): void {
      if (replace(message)) return
      if (items.length && message.id > items[0]!.message.id) add(message)
    },

    remove,

    /** How many times a message changed here: compare before and after a request about it. */
    revision: (id: number): number => revisions.get(id) ?? 0,

    /** Edits the reader's newest message they may edit; false when there is none. */
    editLast(): boolean {
      for (let index = items.length - 1; index >= 0; index -= 1) {
        if (options.canEdit(items[index]!.message)) return startEditing(items[index]!.message.id)
      }
      return false
    },

    /** A reply's original became known (looked up): its replies show it. */
    resolved(id: number): void {
      rerenderRepliesTo(id)
    },

    showPending(pending: PendingMessage[]): void {
      const follow = isNearBottom()
      pendingList.replaceChildren(...pending.map((entry) => renderPending(entry, options)))
      if (follow || pending.some((entry) => entry.state === 'sending')) scrollToBottom()
    },

    /** Scrolls to a message and marks it for a moment, loading older pages until it is there. */
    reveal,

    oldestId: (): number | undefined => items[0]?.message.id,
    newestId: (): number | undefined => items[items.length - 1]?.message.id,
    /** Renders every message again, after names became known. */
    refresh(): void {
      items.forEach((_, index) => rerender(index))
    },
  }
}

export type MessageList = ReturnType<typeof createMessageList>
