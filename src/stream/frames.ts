import type { Message } from '../modules/messages/model'

/**
 * SSE wire frames, encoded once and shared by every stream that sends them: the fan-out loop
 * only copies references to the same bytes.
 */

const encoder = new TextEncoder()

/** How long a browser waits before reconnecting after the stream drops. */
export const RETRY_MS = 2000

export const PING = encoder.encode(': ping\n\n')

/** `event: message` with the message id as the event id, so a browser resumes from it. */
export const messageFrame = (message: Message): Uint8Array =>
  encoder.encode(`event: message\nid: ${message.id}\ndata: ${JSON.stringify(message)}\n\n`)

/** Any other event: no id (they are not replayed on resume). JSON has no raw newlines. */
export const eventFrame = (event: string, data: object): Uint8Array =>
  encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
