import { avatar } from './avatar.ts'
import { h } from './dom.ts'
import { describeMessage, directPeer, formatStamp, roomTitle } from './format.ts'
import { bellIcon, compassIcon, hashIcon, lockIcon, logoutIcon, messageIcon, plusIcon } from './icons.ts'
import { createSearchPanel } from './search-panel.ts'
import type { Message, Room, User } from './types.ts'

export interface SidebarOptions {
  me: User
  nameOf(userId: number): string
  typingText(roomId: number): string
  select(roomId: number): void
  newDirect(): void
  newRoom(): void
  browse(): void
  /** Asks the browser for desktop notifications; offered while that question is open. */
  askNotifications(): void
  canAskNotifications(): boolean
  signOut(): void
  /** Buttons beside Sign out (the account dialog, administration). */
  headerControls?: Node[]
  /** A search hit was chosen. */
  openHit(message: Message): void
  roomName(roomId: number): string
}

/** Most recent activity first: the last message, or the room's creation when it has none. */
export function byActivity(a: Room, b: Room): number {
  const activity = (room: Room) => Date.parse(room.lastMessage?.createdAt ?? room.createdAt)
  return activity(b) - activity(a) || b.id - a.id
}

/** The list of the person's rooms, with unread badges, and the ways to start a conversation. */
export function createSidebar(options: SidebarOptions) {
  const { me } = options
  const action = (label: string, icon: SVGSVGElement, onclick: () => void) =>
    h('button', { type: 'button', class: 'sidebar__action', onclick }, icon, h('span', {}, label))

  const askNotifications = action('Turn on desktop notifications', bellIcon(), options.askNotifications)
  askNotifications.classList.add('sidebar__action--hint')
  const rooms = h('ul', { class: 'room-list', role: 'list' })
  const empty = h('p', { class: 'room-list__empty' }, 'No conversations yet. Start one with a person, or create a room.')
  const actions = h(
    'div',
    { class: 'sidebar__actions' },
    action('New message', messageIcon(), options.newDirect),
    action('New room', plusIcon(), options.newRoom),
    action('Browse rooms', compassIcon(), options.browse),
    askNotifications,
  )
  const nav = h('nav', { class: 'sidebar__rooms', 'aria-label': 'Your rooms' }, rooms, empty)
  // While a query is in the box, its results stand where the rooms were.
  const search = createSearchPanel({
    roomName: options.roomName,
    nameOf: options.nameOf,
    open: options.openHit,
    active: (on) => {
      actions.hidden = on
      nav.hidden = on
    },
  })
  const myName = h('strong', {}, me.displayName)
  const element = h(
    'aside',
    { class: 'sidebar', 'aria-label': 'Conversations' },
    h(
      'header',
      { class: 'sidebar__header' },
      avatar(me.id, me.displayName, 'medium'),
      h('div', { class: 'sidebar__me' }, myName, h('span', {}, `@${me.username}`)),
      ...(options.headerControls ?? []),
      h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Sign out', title: 'Sign out', onclick: options.signOut }, logoutIcon()),
    ),
    h('div', { class: 'sidebar__search' }, search.box),
    actions,
    nav,
    search.results,
  )

  function roomItem(room: Room, active: boolean): HTMLLIElement {
    const title = roomTitle(room, me.id)
    const typing = options.typingText(room.id)
    const last = room.lastMessage
    const preview = typing || (last ? previewOf(room, last) : 'No messages yet')
    const unread = room.unreadCount > 0
    const mentions = room.mentionCount
    const peer = room.type === 'direct' ? directPeer(room, me.id) : undefined
    const icon =
      room.type === 'direct'
        ? avatar(peer?.id ?? room.id, title, 'medium', peer?.online ?? false)
        : h('span', { class: 'room-glyph' }, room.visibility === 'public' ? hashIcon() : lockIcon())

    return h(
      'li',
      {},
      h(
        'button',
        {
          type: 'button',
          class: `room${active ? ' room--active' : ''}${unread ? ' room--unread' : ''}`,
          'data-room-id': room.id,
          'aria-current': active ? 'page' : null,
          onclick: () => options.select(room.id),
        },
        icon,
        h(
          'span',
          { class: 'room__text' },
          h('span', { class: 'room__name' }, title),
          h('span', { class: `room__preview${typing ? ' room__preview--typing' : ''}` }, preview),
        ),
        h(
          'span',
          { class: 'room__aside' },
          last ? h('time', { class: 'room__stamp', datetime: last.createdAt }, formatStamp(last.createdAt)) : null,
          h(
            'span',
            { class: 'room__badges' },
            mentions > 0
              ? h(
                  'span',
                  { class: 'badge badge--mention' },
                  `@${mentions > 99 ? '99+' : mentions}`,
                  h('span', { class: 'visually-hidden' }, mentions === 1 ? ' mention' : ' mentions'),
                )
              : null,
            unread
              ? h(
                  'span',
                  { class: 'badge' },
                  room.unreadCount > 99 ? '99+' : String(room.unreadCount),
                  h('span', { class: 'visually-hidden' }, ' unread'),
                )
              : null,
          ),
        ),
      ),
    )
  }

  function previewOf(room: Room, last: Message): string {
    const text = describeMessage(last, options.nameOf(last.senderId))
    if (last.messageType !== 'MESSAGE') return text
    if (last.senderId === me.id) return `You: ${text}`
    return room.type === 'group' ? `${options.nameOf(last.senderId)}: ${text}` : text
  }

  return {
    element,
    /** The person's own name changed. */
    renamed(displayName: string): void {
      myName.textContent = displayName
    },
    render(list: Room[], activeRoomId: number | null): void {
      // Focus survives the redraw: a keyboard user stays on the room they were on.
      const focused = (document.activeElement as HTMLElement | null)?.dataset?.roomId
      rooms.replaceChildren(...[...list].sort(byActivity).map((room) => roomItem(room, room.id === activeRoomId)))
      empty.hidden = list.length > 0
      search.roomOpened(activeRoomId)
      askNotifications.hidden = !options.canAskNotifications()
      if (focused) rooms.querySelector<HTMLElement>(`[data-room-id="${focused}"]`)?.focus()
    },
  }
}

export type Sidebar = ReturnType<typeof createSidebar>
