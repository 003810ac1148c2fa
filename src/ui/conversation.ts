import { api, PAGE_SIZE as PAGE } from './api.ts'
import { avatar } from './avatar.ts'
import { createComposer } from './composer.ts'
import { h } from './dom.ts'
import { directPeer, roomTitle } from './format.ts'
import { backIcon, hashIcon, leaveIcon, lockIcon } from './icons.ts'
import { createMessageList } from './message-list.ts'
import type { PendingMessage } from './message-item.ts'
import type { Message, Room, User } from './types.ts'

export interface ConversationOptions {
  me: User
  nameOf(userId: number): string
  send(roomId: number, content: string): void
  retry(clientMessageId: string): void
  back(): void
  leave(room: Room): void
  /** Messages were shown in the open room (loaded or arrived). */
  shown(roomId: number): void
}

const CATCH_UP_PAGE = 200

/** The open room: its header, history, typing line and message box. */
export function createConversation(options: ConversationOptions) {
  let room: Room | null = null
  // Bumped on every room switch: answers for a room no longer open are dropped.
  let generation = 0

  const list = createMessageList({
    meId: options.me.id,
    nameOf: options.nameOf,
    retry: options.retry,
    loadOlder: async () => {
      const current = room
      const before = list.oldestId()
      if (!current || before === undefined) return
      const asked = generation
      try {
        const older = await api.messages(current.id, { before }, PAGE)
        if (asked === generation) list.showOlder(older, older.length === PAGE)
      } catch {
        if (asked === generation) list.showError('Older messages could not be loaded.')
      }
    },
  })
  const composer = createComposer({
    send: (content) => room && options.send(room.id, content),
    typing: () => room && void api.typing(room.id).catch(() => undefined),
  })

  const title = h('h2', { class: 'conversation__title', id: 'conversation-title' })
  const subtitle = h('p', { class: 'conversation__subtitle' })
  const badge = h('span', { class: 'conversation__avatar' })
  const leaveButton = h(
    'button',
    { type: 'button', class: 'icon-button', 'aria-label': 'Leave room', title: 'Leave room', onclick: () => room && options.leave(room) },
    leaveIcon(),
  )
  const header = h(
    'header',
    { class: 'conversation__header' },
    h('button', { type: 'button', class: 'icon-button conversation__back', 'aria-label': 'Back to conversations', onclick: () => options.back() }, backIcon()),
    badge,
    h('div', { class: 'conversation__heading' }, title, subtitle),
    leaveButton,
  )
  const typingLine = h('p', { class: 'typing', 'aria-live': 'polite' })
  const placeholder = h(
    'div',
    { class: 'conversation__empty' },
    h('p', { class: 'conversation__empty-title' }, 'No conversation selected'),
    h('p', {}, 'Pick a room or a person on the left, or start something new.'),
  )
  const body = h('div', { class: 'conversation__body', hidden: true }, header, list.element, typingLine, composer.element)
  const element = h('section', { class: 'conversation', 'aria-labelledby': 'conversation-title' }, placeholder, body)

  function renderHeader(current: Room): void {
    const label = roomTitle(current, options.me.id)
    title.textContent = label
    if (current.type === 'direct') {
      const peer = directPeer(current, options.me.id)
      badge.replaceChildren(avatar(peer?.id ?? current.id, label, 'medium', peer?.online ?? false))
      subtitle.textContent = peer?.online ? 'Online' : 'Offline'
      leaveButton.hidden = true
    } else {
      badge.replaceChildren(h('span', { class: 'room-glyph' }, current.visibility === 'public' ? hashIcon() : lockIcon()))
      const members = current.participants.length
      const online = current.participants.filter((user) => user.online).length
      subtitle.textContent = `${members} ${members === 1 ? 'member' : 'members'} · ${online} online · ${current.visibility === 'public' ? 'Public' : 'Private'}`
      leaveButton.hidden = false
    }
  }

  async function loadLatest(current: Room, asked: number): Promise<void> {
    try {
      const latest = await api.messages(current.id, {}, PAGE)
      if (asked !== generation) return
      list.showLatest(latest, latest.length === PAGE)
      // Measurable from outside (tests, the browser's performance tools): time to a usable room.
      performance.mark('chat:conversation-shown')
      options.shown(current.id)
      // The room is known to have newer messages than this page (it was read earlier, or the
      // stream brought them before the page came): fetch the difference.
      if ((current.lastMessage?.id ?? 0) > (list.newestId() ?? 0)) void catchUp()
    } catch {
      if (asked === generation) list.showError('Messages could not be loaded. Reopen the room to try again.')
    }
  }

  /** Adds what is newer than the newest message shown (the latest page, if none is). */
  async function catchUp(): Promise<void> {
    const current = room
    const asked = generation
    if (!current) return
    let after = list.newestId()
    for (;;) {
      const page: Message[] = await api.messages(current.id, after === undefined ? {} : { after }, CATCH_UP_PAGE).catch(() => [])
      if (asked !== generation) return
      for (const message of page) list.add(message)
      if (after === undefined || page.length < CATCH_UP_PAGE) break
      after = page[page.length - 1]!.id
    }
    options.shown(current.id)
  }

  return {
    element,
    get roomId(): number | null {
      return room?.id ?? null
    },

    open(next: Room, pending: PendingMessage[]): void {
      generation += 1
      room = next
      placeholder.hidden = true
      body.hidden = false
      renderHeader(next)
      typingLine.textContent = ''
      list.reset()
      list.showPending(pending)
      composer.reset(roomTitle(next, options.me.id))
      composer.focus()
      void loadLatest(next, generation)
    },

    /** Back to the placeholder: no room, or the open one went away. */
    close(notice?: string): void {
      generation += 1
      room = null
      body.hidden = true
      placeholder.hidden = false
      placeholder.firstElementChild!.textContent = notice ?? 'No conversation selected'
    },

    update(next: Room): void {
      if (room?.id !== next.id) return
      room = next
      renderHeader(next)
    },

    receive(message: Message): void {
      if (room?.id === message.roomId && list.add(message)) options.shown(message.roomId)
    },

    /** After a stream opened without resuming: fetch what arrived before it. */
    catchUp,

    showPending(roomId: number, pending: PendingMessage[]): void {
      if (room?.id === roomId) list.showPending(pending)
    },

    showTyping(text: string): void {
      typingLine.textContent = text
    },

    refreshNames(): void {
      list.refresh()
    },
  }
}

export type Conversation = ReturnType<typeof createConversation>
