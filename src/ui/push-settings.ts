/**
 * Web Push on this device: the service worker (sw.ts at `/sw.js`), the setting that subscribes
 * (after the browser's permission question) and posts the subscription to the server, and the
 * unsubscribing that signing out does, so a shared computer stops getting someone's messages.
 */
import { accountApi, type PushSubscriptionBody } from './account-api.ts'
import { ApiError } from './api.ts'
import { failureText } from './account-text.ts'
import { h } from './dom.ts'
import { OPEN_ROOM, type OpenRoomMessage } from './worker-messages.ts'

const WORKER_URL = '/sw.js'

const supported = () => 'serviceWorker' in navigator && 'PushManager' in window && typeof Notification !== 'undefined'

/**
 * Registers the worker, and follows its "open this room" messages (a notification was clicked
 * while this tab was open). Browsers that cannot run it simply go without push.
 */
export function startServiceWorker(openRoom: (roomId: number) => void): void {
  if (!('serviceWorker' in navigator)) return
  navigator.serviceWorker.register(WORKER_URL).catch(() => undefined)
  navigator.serviceWorker.addEventListener('message', (event: MessageEvent<OpenRoomMessage>) => {
    if (event.data?.type === OPEN_ROOM && event.data.roomId !== undefined) openRoom(event.data.roomId)
  })
}

async function currentSubscription(): Promise<PushSubscription | null> {
  if (!supported()) return null
  const registration = await navigator.serviceWorker.getRegistration(WORKER_URL)
  return (await registration?.pushManager.getSubscription()) ?? null
}

/** Signing out: the server forgets this device's subscription, then the browser drops it. */
export async function unsubscribePush(): Promise<void> {
  const subscription = await currentSubscription().catch(() => null)
  if (!subscription) return
  await accountApi.unsubscribe(subscription.endpoint).catch(() => undefined)
  await subscription.unsubscribe().catch(() => undefined)
}

/** The server's VAPID key is base64url; the browser wants its bytes. */
function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/')
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4))
  return Uint8Array.from(binary, (char) => char.charCodeAt(0))
}

async function subscribe(): Promise<void> {
  const registration = await navigator.serviceWorker.register(WORKER_URL)
  await navigator.serviceWorker.ready
  const { publicKey } = await accountApi.pushKey()
  let subscription: PushSubscription
  try {
    subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(publicKey) })
  } catch (failure) {
    // The browser's own push service said no (or cannot be reached): its words are technical.
    throw new Error(`this browser’s push service did not accept it (${failure instanceof Error ? failure.message : String(failure)}).`)
  }
  try {
    await accountApi.subscribe(subscription.toJSON() as PushSubscriptionBody)
  } catch (failure) {
    // The server does not know it: a subscription left in the browser would only mislead.
    await subscription.unsubscribe().catch(() => undefined)
    throw failure
  }
}

/** The account dialog's switch: push notifications on this device, on or off. */
export function createPushSetting() {
  const toggle = h('input', { type: 'checkbox', role: 'switch', class: 'switch', id: 'push-toggle' })
  const status = h('p', { class: 'form-status', role: 'status' })
  const element = h(
    'div',
    { class: 'push-setting' },
    h(
      'label',
      { class: 'push-setting__label', for: 'push-toggle' },
      h('span', {}, h('strong', {}, 'Push notifications on this device'), h('small', {}, 'New messages you would be told about, also when the chat is closed.')),
      toggle,
    ),
    status,
  )

  async function refresh(): Promise<void> {
    if (!supported()) {
      toggle.disabled = true
      status.textContent = 'This browser cannot receive push notifications.'
      return
    }
    toggle.checked = (await currentSubscription().catch(() => null)) !== null
    if (Notification.permission === 'denied') {
      toggle.disabled = !toggle.checked
      status.textContent = 'Notifications are blocked for this site in the browser’s settings.'
    }
  }

  toggle.addEventListener('change', async () => {
    const on = toggle.checked
    toggle.disabled = true
    status.textContent = on ? 'Turning on…' : 'Turning off…'
    try {
      if (on) {
        // The click is the gesture the browser's permission question needs.
        if ((await Notification.requestPermission()) !== 'granted') throw new Error('notifications are not allowed for this site.')
        await subscribe()
        status.textContent = 'On: this device gets push notifications.'
      } else {
        await unsubscribePush()
        status.textContent = 'Off.'
      }
    } catch (failure) {
      toggle.checked = !on
      const reason = failure instanceof ApiError || !(failure instanceof Error) ? failureText(failure, 'the server cannot be reached.') : failure.message
      status.textContent = `Push notifications could not be turned ${on ? 'on' : 'off'}: ${reason}`
    } finally {
      toggle.disabled = false
    }
  })

  return { element, refresh }
}
