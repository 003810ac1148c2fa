import { api, ApiError, PAGE_SIZE as PAGE } from './api.ts'
import { avatar } from './avatar.ts'
import { createComposer } from './composer.ts'
import { openDeleteMessageDialog } from './dialogs/delete-message-dialog.ts'
import { h } from './dom.ts'
import { directPeer, roomTitle } from './format.ts'
import { backIcon, bellIcon, checkIcon, hashIcon, leaveIcon, lockIcon } from './icons.ts'
import { openMenu } from './menu.ts'
import { createMessageList } from './message-list.ts'
import type { PendingMessage } from './message-item.ts'
import { openReactionPicker } from './reaction-picker.ts'
import type { Attachment, Message, NotificationLevel, Room, User } from './types.ts'

export interface ConversationOptions {
  me: User
  nameOf(userId: number): string
  usernameOf(userId: number): string | undefined
  send(roomId: number, content: string, replyToId: number | null, attachments: Attachment[]): void
  /** The person chose how this room may notify them. */
  setLevel(room: Room, level: NotificationLevel): void
  retry(clientMessageId: string): void
  back(): void
  leave(room: Room): void
  /** Messages were shown in the open room (loaded or arrived). */
  shown(roomId: number): void
}

// How long a notice about the view (a linked message that is gone) stays.
const NOTICE_MS = 6_000
// The API's largest page: for catching up, and for paging back to a message far up.
const CATCH_UP_PAGE = 200
const LEVELS: [NotificationLevel, string][] = [
  ['all', 'All messages'],
  ['mentions', 'Mentions'],
  ['none', 'Nothing'],
]
// The menu's unchosen levels keep their labels in line with the chosen one's check mark.
const blankIcon = () => {
  const svg = checkIcon()
  svg.classList.add('icon--blank')
  return svg
}

/** The open room: its header, history, typing line and message box. */
export function createConversation(options: ConversationOptions) {
  let room: Room | null = null
  // Bumped on every room switch: answers for a room no longer open are dropped.
  let generation = 0

  // Originals of replies older than the loaded history, by id (null: deleted), for this room.
  let earlier = new Map<number, Message | null>()
  const lookingUp = new Set<number>()

  const list = createMessageList({
    meId: options.me.id,
    nameOf: options.nameOf,
    usernameOf: options.usernameOf,
    retry: options.retry,
    canEdit: (message) => message.senderId === options.me.id && message.messageType === 'MESSAGE',
    canDelete: (message) =>
      message.messageType === 'MESSAGE' &&
      (message.senderId === options.me.id || (room?.type === 'group' && room.ownerId === options.me.id) || options.me.role === 'admin'),
    reply: (message) => composer.replyTo(message, options.nameOf(message.senderId)),
    pickReaction: (message, anchor) =>
      openReactionPicker(anchor, (emoji) => {
        const given = message.reactions.find((reaction) => reaction.emoji === emoji)?.userIds.includes(options.me.id)
        void react(message, emoji, !given)
      }),
    toggleReaction: (message, emoji) => {
      const given = message.reactions.find((reaction) => reaction.emoji === emoji)?.userIds.includes(options.me.id) ?? false
      void react(message, emoji, !given)
    },
    remove: (message) =>
      openDeleteMessageDialog(message, {
        deleted: () => room?.id === message.roomId && removed(message.id),
        closed: () => composer.focus(),
      }),
    save: async (message, content) => {
      const seen = list.revision(message.id)
      try {
        apply(await api.edit(message.roomId, message.id, content), seen)
        return null
      } catch (error) {
        return error instanceof ApiError ? error.message : 'The message could not be saved.'
      }
    },
    editClosed: () => composer.focus(),
    earlier: (roomId, messageId) => {
      if (earlier.has(messageId)) return earlier.get(messageId)
      if (!lookingUp.has(messageId)) {
        lookingUp.add(messageId)
        const asked = generation
        api.message(roomId, messageId).then(
          (found) => {
            if (asked !== generation) return
            earlier.set(messageId, found)
            list.resolved(messageId)
          },
          // Not known yet, not known to be gone: the next drawing of the reply asks again.
          () => lookingUp.delete(messageId),
        )
      }
      return undefined
    },
    loadOlder: async (far) => {
      const current = room
      const before = list.oldestId()
      if (!current || before === undefined) return
      const asked = generation
      const size = far ? CATCH_UP_PAGE : PAGE
      try {
        const older = await api.messages(current.id, { before }, size)
        if (asked === generation) list.showOlder(older, older.length === size)
      } catch {
        if (asked === generation) list.showError('Older messages could not be loaded.')
      }
    },
  })
  const composer = createComposer({
    send: (content, replyToId, attachments) => room && options.send(room.id, content, replyToId, attachments),
    roomId: () => room?.id ?? null,
    typing: () => room && void api.typing(room.id).catch(() => undefined),
    editLast: () => list.editLast(),
    people: () => room?.participants.filter((user) => user.id !== options.me.id) ?? [],
  })

  /**
   * The answer to a change this tab asked for. It is applied only when the stream brought no
   * newer state of the message meanwhile; either way the stream's event for it follows.
   */
  function apply(message: Message, seen: number): void {
    if (room?.id === message.roomId && list.revision(message.id) === seen) list.update(message)
  }

  async function react(message: Message, emoji: string, on: boolean): Promise<void> {
    const seen = list.revision(message.id)
    try {
      apply(await api.react(message.roomId, message.id, emoji, on), seen)
    } catch (error) {
      alert(error instanceof ApiError ? error.message : 'The reaction could not be saved.')
    }
  }

  function removed(messageId: number): void {
    list.remove(messageId)
    composer.dropReply(messageId)
    if (earlier.has(messageId)) {
      earlier.set(messageId, null)
      list.resolved(messageId)
    }
  }

  const title = h('h2', { class: 'conversation__title', id: 'conversation-title' })
  const subtitle = h('p', { class: 'conversation__subtitle' })
  const badge = h('span', { class: 'conversation__avatar' })
  const leaveButton = h(
    'button',
    { type: 'button', class: 'icon-button', 'aria-label': 'Leave room', title: 'Leave room', onclick: () => room && options.leave(room) },
    leaveIcon(),
  )
  const levelText = h('span', { class: 'notify__level' })
  const notify: HTMLButtonElement = h(
    'button',
    {
      type: 'button',
      class: 'notify',
      'aria-haspopup': 'menu',
      title: 'Notifications',
      onclick: () => {
        const current = room
        if (!current) return
        openMenu(
          notify,
          'Notifications',
          LEVELS.map(([value, label]) => ({
            label,
            icon: value === current.notificationLevel ? checkIcon : blankIcon,
            checked: value === current.notificationLevel,
            run: () => options.setLevel(current, value),
          })),
        )
      },
    },
    bellIcon(),
    levelText,
  )
  const header = h(
    'header',
    { class: 'conversation__header' },
    h('button', { type: 'button', class: 'icon-button conversation__back', 'aria-label': 'Back to conversations', onclick: () => options.back() }, backIcon()),
    badge,
    h('div', { class: 'conversation__heading' }, title, subtitle),
    notify,
    leaveButton,
  )
  const typingLine = h('p', { class: 'typing', 'aria-live': 'polite' })
  const notice = h('p', { class: 'conversation__notice', role: 'status' })
  let noticeTimer: ReturnType<typeof setTimeout> | undefined

  /** Scrolls to a linked message (a search hit); says so when it is gone. */
  async function show(messageId: number): Promise<void> {
    const asked = generation
    if ((await list.reveal(messageId)) || asked !== generation) return
    notice.textContent = 'That message is no longer in this conversation.'
    clearTimeout(noticeTimer)
    noticeTimer = setTimeout(() => (notice.textContent = ''), NOTICE_MS)
  }
  const placeholder = h(
    'div',
    { class: 'conversation__empty' },
    h('p', { class: 'conversation__empty-title' }, 'No conversation selected'),
    h('p', {}, 'Pick a room or a person on the left, or start something new.'),
  )
  const dropHint = h('p', { class: 'drop-hint' })
  const body = h('div', { class: 'conversation__body', hidden: true }, header, list.element, notice, typingLine, composer.element, dropHint)
  const element = h('section', { class: 'conversation', 'aria-labelledby': 'conversation-title' }, placeholder, body)

  // Files dragged from the desktop onto the open conversation go into the message box's tray.
  const carriesFiles = (event: DragEvent) => event.dataTransfer?.types.includes('Files') ?? false
  const dropping = (on: boolean) => body.classList.toggle('conversation__body--dropping', on)
  body.addEventListener('dragover', (event) => {
    if (!carriesFiles(event)) return
    event.preventDefault()
    event.dataTransfer!.dropEffect = 'copy'
    dropping(true)
  })
  body.addEventListener('dragleave', (event) => {
    if (!body.contains(event.relatedTarget as Node | null)) dropping(false)
  })
  body.addEventListener('drop', (event) => {
    if (!carriesFiles(event)) return
    event.preventDefault()
    dropping(false)
    composer.addFiles([...event.dataTransfer!.files])
  })

  function renderHeader(current: Room): void {
    const label = roomTitle(current, options.me.id)
    title.textContent = label
    dropHint.textContent = `Drop files to send them to ${label}`
    const chosen = LEVELS.find(([value]) => value === current.notificationLevel)![1]
    levelText.textContent = chosen
    // The visible word is part of the name, so speech input can say what it sees.
    notify.setAttribute('aria-label', `Notifications: ${chosen}`)
    notify.dataset.level = current.notificationLevel
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

  async function loadLatest(current: Room, asked: number, target: number | null): Promise<void> {
    try {
      const latest = await api.messages(current.id, {}, PAGE)
      if (asked !== generation) return
      list.showLatest(latest, latest.length === PAGE)
      if (target !== null) void show(target)
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

    /** Shows a room at its newest messages, or scrolled to `target` (a search hit) when given. */
    open(next: Room, pending: PendingMessage[], target: number | null = null): void {
      generation += 1
      room = next
      earlier = new Map()
      lookingUp.clear()
      placeholder.hidden = true
      body.hidden = false
      renderHeader(next)
      typingLine.textContent = ''
      notice.textContent = ''
      list.reset()
      list.showPending(pending)
      composer.reset(roomTitle(next, options.me.id))
      composer.focus()
      void loadLatest(next, generation, target)
    },

    /** Scrolls the open room to one of its messages, paging back to it as needed. */
    reveal(messageId: number): void {
      void show(messageId)
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

    /** An edit or a change of reactions, from the stream. */
    updated(message: Message): void {
      if (room?.id !== message.roomId) return
      list.update(message)
      if (earlier.has(message.id)) {
        earlier.set(message.id, message)
        list.resolved(message.id)
      }
    },

    deleted(roomId: number, messageId: number): void {
      if (room?.id === roomId) removed(messageId)
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
