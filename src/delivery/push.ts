import webpush from 'web-push'
import type { Presence } from '../bus/bus'
import type { VapidKeys } from '../modules/push/service'
import type { OutgoingCall, Store } from '../store/store'
import { discard, failedAnswer, noAnswer } from './http'
import type { Outcome, Sender } from './queue'

/** A push's body: the start of the message, a lock screen's worth. */
const PREVIEW_CHARS = 120
/** How long a push service may keep a push for an offline device. */
const TTL_SECONDS = 24 * 3600

export interface PushSenderOptions {
  store: Store
  presence: Presence
  keys: VapidKeys
  /** The VAPID `sub` claim: a contact for push services (PUBLIC_URL when https). */
  subject: string
  /** Away: no stream open on any instance for this long. */
  awayMs: number
  now?: () => number
}

/**
 * Web Push: an `aes128gcm` payload encrypted to the subscription's keys and a VAPID JWT, both
 * made by the `web-push` library (generateRequestDetails); the request is sent with fetch
 * (the library's own sender uses node's https module, so http:// test endpoints need this).
 *
 * Whether the user is away is asked here, at send time, not when the message was stored: a
 * push that waited (a retry, a restart, a backlog) must not buzz a phone for a message its
 * user has meanwhile read in an open tab, and one stored while they were online keeps its
 * chance if they leave before it is sent.
 */
export function createPushSender({ store, presence, keys, subject, awayMs, now = Date.now }: PushSenderOptions): Sender {
  const vapidDetails = { subject, publicKey: keys.publicKey, privateKey: keys.privateKey }
  return async (call: OutgoingCall, signal: AbortSignal): Promise<Outcome> => {
    const subscription = await store.getPushSubscription(call.targetId)
    if (!subscription) return { result: 'skipped', reason: 'gone' }
    // A deactivated account's devices hear nothing more (its subscriptions stay for a reactivation).
    if ((await store.getUser(subscription.userId))?.deactivatedAt !== null) return { result: 'skipped', reason: 'gone' }
    const seen = await presence.seenSince([subscription.userId], now() - awayMs)
    if (seen.has(subscription.userId)) return { result: 'skipped', reason: 'present' }
    const [message, room] = await Promise.all([store.getMessage(call.roomId, call.messageId), store.getRoomFor(call.roomId, subscription.userId)])
    if (!message || !room?.member) return { result: 'skipped', reason: 'gone' }
    const sender = await store.getUser(message.senderId)
    const name = sender?.displayName ?? 'Someone'
    const payload = JSON.stringify({
      roomId: room.id,
      messageId: message.id,
      title: room.type === 'direct' ? name : `${name} in ${room.name}`,
      body: preview(message.content, message.attachments.map((a) => a.name)),
    })

    const request = webpush.generateRequestDetails(
      { endpoint: subscription.endpoint, keys: { p256dh: subscription.p256dh, auth: subscription.auth } },
      payload,
      { vapidDetails, TTL: TTL_SECONDS, contentEncoding: 'aes128gcm', urgency: 'high' },
    )
    let response: Response
    try {
      response = await fetch(request.endpoint, { method: 'POST', headers: request.headers, body: request.body as Buffer<ArrayBuffer>, signal, redirect: 'manual' })
    } catch (error) {
      return noAnswer(error)
    }
    void discard(response)
    if (response.status >= 200 && response.status <= 299) return { result: 'sent' }
    // The browser unsubscribed or the subscription expired: it will never take a push again.
    if (response.status === 404 || response.status === 410) {
      await store.removePushSubscription(subscription.id)
      return { result: 'rejected', reason: `HTTP ${response.status}: subscription removed` }
    }
    return failedAnswer(response.status)
  }
}

/** The first PREVIEW_CHARS code points on one line, or the files' names for a message of files only. */
function preview(content: string, fileNames: string[]): string {
  const text = content.replace(/\s+/g, ' ').trim() || fileNames.join(', ')
  const chars = [...text]
  return chars.length <= PREVIEW_CHARS ? text : `${chars.slice(0, PREVIEW_CHARS - 1).join('')}…`
}

/** The VAPID subject: PUBLIC_URL when it is https (push services accept only https: or mailto:). */
export const vapidSubject = (publicUrl: string | undefined) =>
  publicUrl?.startsWith('https://') && !new URL(publicUrl).hostname.endsWith('localhost') ? publicUrl : 'mailto:postmaster@chat-server.invalid'
