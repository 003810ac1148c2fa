/**
 * The service worker, served from `/sw.js` (root scope): shows the server's Web Push messages
 * as notifications and, on a click, brings the chat to that room, in a tab already open when
 * there is one. It caches nothing: the page is always the server's current one.
 *
 * The push payload is API.md's `{roomId, messageId, title, body}`.
 */
import { OPEN_ROOM, type OpenRoomMessage } from './worker-messages.ts'

// The worker's own types: the project's type check uses the DOM library, which has no
// service worker events, and the two libraries cannot be loaded together.
interface ExtendableEvent extends Event {
  waitUntil(promise: Promise<unknown>): void
}
interface PushEvent extends ExtendableEvent {
  data: { json(): unknown } | null
}
interface NotificationEvent extends ExtendableEvent {
  notification: Notification
}
interface WindowClient {
  url: string
  focus(): Promise<WindowClient>
  postMessage(message: unknown): void
}
interface WorkerScope {
  registration: ServiceWorkerRegistration
  clients: {
    matchAll(options: { type: 'window'; includeUncontrolled: boolean }): Promise<WindowClient[]>
    openWindow(url: string): Promise<WindowClient | null>
    claim(): Promise<void>
  }
  location: Location
  skipWaiting(): Promise<void>
  addEventListener(type: 'install' | 'activate', listener: (event: ExtendableEvent) => void): void
  addEventListener(type: 'push', listener: (event: PushEvent) => void): void
  addEventListener(type: 'notificationclick', listener: (event: NotificationEvent) => void): void
}

const worker = self as unknown as WorkerScope

interface PushPayload {
  roomId?: number
  messageId?: number
  title?: string
  body?: string
}

// A new release's worker takes over at once: it holds no state an older page depends on.
worker.addEventListener('install', (event) => event.waitUntil(worker.skipWaiting()))
worker.addEventListener('activate', (event) => event.waitUntil(worker.clients.claim()))

worker.addEventListener('push', (event) => {
  let payload: PushPayload = {}
  try {
    payload = (event.data?.json() ?? {}) as PushPayload
  } catch {
    // Not JSON: still a push the person must see (userVisibleOnly), with the generic text.
  }
  const roomId = Number.isInteger(payload.roomId) ? payload.roomId : undefined
  event.waitUntil(
    worker.registration.showNotification(payload.title || 'New message', {
      body: payload.body ?? '',
      // One notification per room: a newer message replaces the older one, as in the page.
      tag: roomId === undefined ? 'chat' : `room-${roomId}`,
      icon: '/icon.svg',
      data: { roomId, messageId: payload.messageId },
    }),
  )
})

worker.addEventListener('notificationclick', (event) => {
  event.notification.close()
  const roomId = (event.notification.data as PushPayload | null)?.roomId
  const hash = roomId === undefined ? '#/' : `#/rooms/${roomId}`
  event.waitUntil(
    (async () => {
      const origin = worker.location.origin
      const tabs = (await worker.clients.matchAll({ type: 'window', includeUncontrolled: true })).filter((tab) => tab.url.startsWith(origin))
      const tab = tabs[0]
      if (!tab) {
        await worker.clients.openWindow(`/${hash}`)
        return
      }
      // The room first: a browser may refuse the focus, and the tab should still show the room.
      tab.postMessage({ type: OPEN_ROOM, roomId } satisfies OpenRoomMessage)
      await tab.focus()
    })(),
  )
})
