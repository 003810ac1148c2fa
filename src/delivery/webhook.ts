import { createHmac } from 'node:crypto'
import type { Presence } from '../bus/bus'
import { AppError } from '../errors'
import type { Logger } from '../log'
import { codePoints, isBlank } from '../modules/common/text'
import type { MessageService } from '../modules/messages/service'
import { MESSAGE_MAX_CHARS, toMessage } from '../modules/messages/model'
import { toUser } from '../modules/users/model'
import type { OutgoingCall, Store } from '../store/store'
import { VERSION } from '../version'
import { discard, failedAnswer, noAnswer, readCapped } from './http'
import type { Outcome, Sender } from './queue'

/** The signature header: `sha256=<hex HMAC-SHA256 of the raw body, keyed with the bot's secret>`. */
const SIGNATURE_HEADER = 'x-chat-signature'

const sign = (secret: string, body: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`

/**
 * Outgoing webhooks: POSTs `{message, room: {id, name, type}, sender: User}` to the bot's
 * webhookUrl, signed. A 2xx answer with text (`text/plain`) or JSON `{content}` that is not
 * blank is posted by the bot in the room as a reply to the message. The reply's
 * clientMessageId is fixed per message, so a call made twice (at-least-once) replies once.
 */
export function createWebhookSender({ store, messages, presence, log, publicUrl, now = Date.now }: {
  store: Store
  messages: MessageService
  presence: Presence
  log: Logger
  /** With PUBLIC_URL, attachment urls in the payload are absolute: a receiver has no request origin to resolve them against. */
  publicUrl?: string
  now?: () => number
}): Sender {
  const payloadMessage = (record: Parameters<typeof toMessage>[0]) => {
    const message = toMessage(record)
    if (!publicUrl || message.attachments.length === 0) return message
    return { ...message, attachments: message.attachments.map((a) => ({ ...a, url: publicUrl + a.url })) }
  }

  /** The try's outcome as the admin's bot list shows it; a failure to record it fails no call. */
  async function record(botId: number, status: number | null, error: string | null) {
    const ok = status !== null && status >= 200 && status <= 299
    await store.recordWebhookDelivery(botId, { at: now(), ok, status, error }).catch((failure: unknown) => {
      log.warn('webhook outcome not recorded', { botId, error: String(failure) })
    })
  }

  return async (call: OutgoingCall, signal: AbortSignal): Promise<Outcome> => {
    const botId = call.targetId
    const [hook, message] = await Promise.all([store.webhookOf(botId), store.getMessage(call.roomId, call.messageId)])
    if (!hook || !message) return { result: 'skipped', reason: 'gone' }
    const [room, sender] = await Promise.all([store.getRoomFor(call.roomId, botId), store.getUser(message.senderId)])
    if (!room || !sender) return { result: 'skipped', reason: 'gone' }
    const online = await presence.online([sender.id])
    const body = JSON.stringify({ message: payloadMessage(message), room: { id: room.id, name: room.name, type: room.type }, sender: toUser(sender, online) })

    let response: Response
    try {
      response = await fetch(hook.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': `chat-server/${VERSION}`,
          [SIGNATURE_HEADER]: sign(hook.secret, body),
          // The same for every try of this call: a receiver may drop a repeat by it.
          'x-chat-delivery': String(call.id),
        },
        body,
        signal,
        // A redirect is the endpoint's own business: the bot's URL is where we post, never elsewhere.
        redirect: 'manual',
      })
    } catch (error) {
      const outcome = noAnswer(error)
      await record(botId, null, outcome.reason)
      return outcome
    }
    await record(botId, response.status, null)
    if (response.status < 200 || response.status > 299) {
      void discard(response)
      return failedAnswer(response.status)
    }
    let content: string | null
    try {
      content = replyIn(response.headers.get('content-type') ?? '', await readCapped(response))
    } catch (error) {
      return noAnswer(error)
    }
    if (content === null) return { result: 'sent' }
    try {
      await messages.post(call.roomId, botId, { content, replyToId: message.id, clientMessageId: `webhook-reply:${message.id}` })
    } catch (error) {
      // Too many replies too fast: the call is tried again (and replies once, by its clientMessageId).
      if (error instanceof AppError && error.code === 'rate_limited') return { result: 'retry', reason: 'reply rate limited' }
      // The bot left the room, or the message it answers is gone: nothing to post.
      log.warn('webhook reply not posted', { botId, messageId: message.id, error: String(error) })
    }
    return { result: 'sent' }
  }
}

/** The reply an answer carries: its text, or JSON's `content`; null when none or blank. Cut to a message's length. */
function replyIn(contentType: string, bytes: Uint8Array): string | null {
  const type = contentType.split(';')[0]!.trim().toLowerCase()
  const text = new TextDecoder().decode(bytes)
  let content: unknown = null
  if (type === 'text/plain') content = text
  else if (type === 'application/json' || type.endsWith('+json')) {
    try {
      content = (JSON.parse(text) as { content?: unknown } | null)?.content
    } catch {
      return null
    }
  }
  if (typeof content !== 'string' || isBlank(content)) return null
  return codePoints(content) <= MESSAGE_MAX_CHARS ? content : [...content].slice(0, MESSAGE_MAX_CHARS).join('')
}
