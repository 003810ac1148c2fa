import { openAccountDialog } from './account-dialog.ts'
import { ADMIN_HASH, mountAdministration } from './admin/admin-page.ts'
import { api, ApiError } from './api.ts'
import { createConnectionBanner } from './connection-banner.ts'
import { createConversation } from './conversation.ts'
import { createDesktopNotifier } from './desktop-notifier.ts'
import { openBrowseDialog } from './dialogs/browse-dialog.ts'
import { openDirectDialog } from './dialogs/direct-dialog.ts'
import { openNewRoomDialog } from './dialogs/new-room-dialog.ts'
import { h } from './dom.ts'
import { shieldIcon, userIcon } from './icons.ts'
import { roomTitle } from './format.ts'
import { createOutbox } from './outbox.ts'
import { unsubscribePush } from './push-settings.ts'
import { createReadMarkers } from './read-markers.ts'
import { createSidebar } from './sidebar.ts'
import { openStream, type RoomChange, type StreamHandlers } from './stream.ts'
import type { Message, MessageDeletedEvent, NotificationLevel, Room, User } from './types.ts'
import { createTypingTracker, describeTyping } from './typing-tracker.ts'

// Presence is only in fetched rooms and users: refreshed this often while the tab is visible.
const ROOMS_REFRESH_MS = 60_000
const RECOUNT_DELAY_MS = 200

/**
 * The signed-in app: keeps the rooms and people it knows, routes stream events to the
 * sidebar and the open conversation, and follows the `#/rooms/<id>` address.
 */
export function startChat(root: HTMLElement, me: User, signedOut: () => void): void {
  const rooms = new Map<number, Room>()
  const users = new Map<number, User>([[me.id, me]])
  let activeRoomId: number | null = null
  let roomsLoaded = false
  let refreshTimer: ReturnType<typeof setTimeout> | undefined
  let lookedUpUsers = false

  const nameOf = (userId: number): string => {
    const user = users.get(userId)
    if (user) return user.displayName
    void lookUpUsers()
    return 'Someone'
  }
  const usernameOf = (userId: number): string | undefined => users.get(userId)?.username
  const notifier = createDesktopNotifier((roomId) => navigate(roomId))

  const typing = createTypingTracker((roomId) => {
    if (roomId === activeRoomId) conversation.showTyping(typingText(roomId))
    renderSidebar()
  })
  const typingText = (roomId: number) => describeTyping(typing.typists(roomId).map(nameOf))

  const outbox = createOutbox({
    changed: (roomId) => conversation.showPending(roomId, outbox.forRoom(roomId)),
    confirmed: (message) => receive(message),
  })

  const readMarkers = createReadMarkers({
    newestId: (roomId) => rooms.get(roomId)?.lastMessage?.id,
    cleared: (roomId) => {
      const room = rooms.get(roomId)
      if (room && (room.unreadCount !== 0 || room.mentionCount !== 0)) {
        room.unreadCount = 0
        room.mentionCount = 0
        renderSidebar()
      }
    },
  })

  const sidebar = createSidebar({
    me,
    nameOf,
    typingText,
    select: (roomId) => navigate(roomId),
    newDirect: () => openDirectDialog(me.id, entered),
    newRoom: () => openNewRoomDialog(me.id, entered),
    browse: () => openBrowseDialog(entered),
    askNotifications: () => void notifier.ask().then(renderSidebar),
    canAskNotifications: () => notifier.askable,
    signOut: () => void signOut(),
    headerControls: [
      h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Account', title: 'Account', onclick: () => openAccountDialog(me, renamed) }, userIcon()),
      ...(me.role === 'admin'
        ? [h('button', { type: 'button', class: 'icon-button', 'aria-label': 'Administration', title: 'Administration', onclick: () => (location.hash = ADMIN_HASH) }, shieldIcon())]
        : []),
    ],
    roomName: (roomId) => {
      const room = rooms.get(roomId)
      return room ? roomTitle(room, me.id) : 'A room'
    },
    openHit: (message) => showMessage(message.roomId, message.id),
  })
  const conversation = createConversation({
    me,
    nameOf,
    usernameOf,
    send: (roomId, content, replyToId, attachments) => outbox.send(roomId, content, replyToId, attachments),
    setLevel: (room, level) => void setLevel(room, level),
    retry: (clientMessageId) => outbox.retry(clientMessageId),
    back: () => navigate(null),
    leave: (room) => void leave(room),
    shown: (roomId) => {
      const last = rooms.get(roomId)?.lastMessage
      if (isViewing(roomId) && last && last.senderId !== me.id) readMarkers.markSoon(roomId)
    },
  })
  const banner = createConnectionBanner()
  const shell = h('div', { class: 'shell' }, sidebar.element, conversation.element)
  root.replaceChildren(banner.element, shell)
  const administration = me.role === 'admin' ? mountAdministration(root, shell, me, () => navigate(null)) : null

  function renamed(user: User): void {
    me.displayName = user.displayName
    sidebar.renamed(user.displayName)
    conversation.refreshNames()
  }

  let stream: { close(): void } | null = null
  let stopped = false
  let streamOpened = false
  const streamHandlers: StreamHandlers = {
    message: receive,
    messageUpdated: updated,
    messageDeleted: deleted,
    typing: ({ roomId, userId }) => {
      if (userId !== me.id) typing.typing(roomId, userId)
    },
    read: ({ roomId, userId, messageId }) => {
      if (userId !== me.id) return
      const room = rooms.get(roomId)
      // Read up to the newest message: nothing unread. Read part of the way: ask for the count.
      if (room && messageId >= (room.lastMessage?.id ?? 0)) readMarkers.cleared(roomId)
      else void refreshRooms()
    },
    roomChange: (change, { roomId }) => void roomChanged(change, roomId),
    status: (status) => banner.show(status),
    opened: (resumed) => {
      // Room changes are not replayed after an outage, and a stream that did not resume
      // replays no messages either: fetch what may have been missed.
      if (streamOpened || !resumed) void refreshRooms()
      if (!resumed) void conversation.catchUp()
      streamOpened = true
    },
    canReconnect: async () => {
      try {
        await api.me()
        return true
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) {
          end()
          return false
        }
        return true
      }
    },
  }

  /** Rooms first, then the stream, resuming after the newest message those rooms showed. */
  async function begin(): Promise<void> {
    await refreshRooms()
    if (stopped) return
    const newest = Math.max(0, ...[...rooms.values()].map((room) => room.lastMessage?.id ?? 0))
    stream = openStream(streamHandlers, newest > 0 ? newest : null)
  }

  function isViewing(roomId: number): boolean {
    return activeRoomId === roomId && document.visibilityState === 'visible'
  }

  function renderSidebar(): void {
    sidebar.render([...rooms.values()], activeRoomId)
    const unread = [...rooms.values()].reduce((sum, room) => sum + room.unreadCount, 0)
    document.title = unread > 0 ? `(${unread}) Chat` : 'Chat'
  }

  function remember(room: Room): void {
    for (const user of room.participants) users.set(user.id, user)
    const known = rooms.get(room.id)
    // A room fetched while messages stream in can be older than what the stream brought.
    if (known?.lastMessage && (!room.lastMessage || room.lastMessage.id < known.lastMessage.id)) {
      room.lastMessage = known.lastMessage
      room.unreadCount = known.unreadCount
      room.mentionCount = known.mentionCount
    }
    rooms.set(room.id, room)
    conversation.update(room)
    // Counted by the server before this tab's read marker for the open room reached it.
    if (room.unreadCount > 0 && isViewing(room.id)) readMarkers.markSoon(room.id)
  }

  function receive(message: Message): void {
    const room = rooms.get(message.roomId)
    if (!room) {
      // A room this tab has not heard of yet (its room-created event is on its way).
      void refreshRooms()
      return
    }
    typing.stop(message.roomId, message.senderId)
    outbox.settleFromStream(message)
    // Replayed or repeated messages are older than the room's last one: counted once.
    if (!room.lastMessage || message.id > room.lastMessage.id) {
      room.lastMessage = message
      if (message.senderId !== me.id && !isViewing(room.id)) {
        room.unreadCount += 1
        if (message.mentions.includes(me.id)) room.mentionCount += 1
      }
      renderSidebar()
      notifier.consider(room, message, me.id, roomTitle(room, me.id), nameOf(message.senderId))
    } else if (room.lastMessage.id === message.id) {
      room.lastMessage = message
      renderSidebar()
    }
    conversation.receive(message)
  }

  function updated(message: Message): void {
    const room = rooms.get(message.roomId)
    if (!room) return
    if (room.lastMessage?.id === message.id) {
      room.lastMessage = message
      renderSidebar()
    }
    // An edit may add or take back a mention of an unread message: the server recounts.
    if (room.unreadCount > 0 && message.senderId !== me.id) recount(room.id)
    conversation.updated(message)
  }

  function deleted({ roomId, messageId }: MessageDeletedEvent): void {
    const room = rooms.get(roomId)
    if (!room) return
    conversation.deleted(roomId, messageId)
    const wasLast = room.lastMessage?.id === messageId
    // Forgotten first, or the room fetched next would be taken for an older answer than it.
    if (wasLast) room.lastMessage = null
    if (wasLast || room.unreadCount > 0) recount(roomId)
  }

  // Rooms whose counts or last message the server is asked for again, once per burst of changes.
  const recounting = new Set<number>()
  function recount(roomId: number): void {
    if (recounting.has(roomId)) return
    recounting.add(roomId)
    setTimeout(() => {
      recounting.delete(roomId)
      if (!stopped) void roomChanged('room-updated', roomId)
    }, RECOUNT_DELAY_MS)
  }

  async function setLevel(room: Room, level: NotificationLevel): Promise<void> {
    // The pick in the menu is the person's gesture that the browser's question needs.
    if (level !== 'none') void notifier.ask().then(renderSidebar)
    try {
      await api.setNotifications(room.id, level)
      const current = rooms.get(room.id)
      if (current) current.notificationLevel = level
    } catch (error) {
      alert(error instanceof ApiError ? error.message : 'The notification setting could not be saved.')
    }
    const current = rooms.get(room.id)
    if (current) conversation.update(current)
  }

  async function refreshRooms(): Promise<void> {
    // Only rooms known before the request can be missing from its answer because they are gone.
    const knownBefore = [...rooms.keys()]
    try {
      const fresh = await api.rooms()
      const ids = new Set(fresh.map((room) => room.id))
      for (const id of knownBefore) if (!ids.has(id)) forget(id)
      for (const room of fresh) remember(room)
      roomsLoaded = true
      renderSidebar()
      route()
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) end()
    }
  }

  async function roomChanged(change: RoomChange, roomId: number): Promise<void> {
    if (change === 'room-deleted') {
      forget(roomId)
      renderSidebar()
      return
    }
    try {
      remember(await api.room(roomId))
      renderSidebar()
    } catch {
      void refreshRooms()
    }
  }

  function forget(roomId: number): void {
    rooms.delete(roomId)
    outbox.dropRoom(roomId)
    if (activeRoomId === roomId) {
      activeRoomId = null
      conversation.close('This conversation is no longer available')
      shell.classList.remove('shell--conversation')
    }
  }

  async function lookUpUsers(): Promise<void> {
    // Senders who left every shared room are unknown; one listing of people names them.
    if (lookedUpUsers) return
    lookedUpUsers = true
    const people = await api.users('', 200).catch(() => [])
    for (const user of people) if (!users.has(user.id)) users.set(user.id, user)
    conversation.refreshNames()
    renderSidebar()
  }

  function entered(room: Room): void {
    remember(room)
    renderSidebar()
    navigate(room.id)
  }

  async function leave(room: Room): Promise<void> {
    if (!confirm(`Leave ${roomTitle(room, me.id)}?`)) return
    try {
      await api.leaveRoom(room.id)
      forget(room.id)
      renderSidebar()
      navigate(null)
    } catch (error) {
      alert(error instanceof ApiError ? error.message : 'The room could not be left.')
    }
  }

  // A search hit to scroll to once its room opens (route() opens it).
  let target: { roomId: number; messageId: number } | null = null

  /** Opens a room scrolled to one of its messages (a search hit). */
  function showMessage(roomId: number, messageId: number): void {
    if (roomId === activeRoomId) {
      conversation.reveal(messageId)
      return
    }
    target = { roomId, messageId }
    navigate(roomId)
  }

  function navigate(roomId: number | null): void {
    const hash = roomId === null ? '#/' : `#/rooms/${roomId}`
    if (location.hash !== hash) location.hash = hash
    else route()
  }

  /** Shows what the address names; the back button and reloads keep the open room. */
  function route(): void {
    const match = /^#\/rooms\/(\d+)$/.exec(location.hash)
    const roomId = match ? Number(match[1]) : null
    if (roomId === activeRoomId) return
    const room = roomId === null ? undefined : rooms.get(roomId)
    if (roomId !== null && !room && !roomsLoaded) return
    activeRoomId = room ? room.id : null
    shell.classList.toggle('shell--conversation', room !== undefined)
    const aim = target && room && target.roomId === room.id ? target.messageId : null
    target = null
    if (room) {
      conversation.open(room, outbox.forRoom(room.id), aim)
      conversation.showTyping(typingText(room.id))
      if (room.unreadCount > 0) readMarkers.markSoon(room.id)
    } else {
      conversation.close(roomId === null ? undefined : 'This conversation is not available')
    }
    renderSidebar()
  }

  function onVisible(): void {
    if (document.visibilityState !== 'visible') return
    void refreshRooms()
    if (activeRoomId !== null && rooms.get(activeRoomId)?.unreadCount) readMarkers.markSoon(activeRoomId)
  }

  function scheduleRefresh(): void {
    refreshTimer = setTimeout(() => {
      if (document.visibilityState === 'visible') void refreshRooms()
      scheduleRefresh()
    }, ROOMS_REFRESH_MS)
  }

  async function signOut(): Promise<void> {
    await unsubscribePush()
    await api.logout().catch(() => undefined)
    end()
  }

  /** Signed out (here, or the session ended elsewhere): stop everything, once. */
  function end(): void {
    if (stopped) return
    stopped = true
    stream?.close()
    typing.clearAll()
    readMarkers.cancel()
    clearTimeout(refreshTimer)
    window.removeEventListener('hashchange', route)
    document.removeEventListener('visibilitychange', onVisible)
    administration?.stop()
    signedOut()
  }

  window.addEventListener('hashchange', route)
  document.addEventListener('visibilitychange', onVisible)
  scheduleRefresh()
  renderSidebar()
  void begin()
}
