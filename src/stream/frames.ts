import { toMessage } from '../modules/messages/model'
import type { StoredEvent } from '../store/store'

/**
 * SSE wire frames, encoded once and shared by every stream that sends them: the fan-out loop
 * only copies references to the same bytes.
 */

const encoder = new TextEncoder()

/** How long a browser waits before reconnecting after the stream drops. */
export const RETRY_MS = 2000

export const PING = encoder.encode(': ping\n\n')

type Kind = StoredEvent['kind']
type EventOf<K extends Kind> = Extract<StoredEvent, { kind: K }>

/**
 * Each kind of stored event on the wire: the SSE event name is the kind, the data is this.
 * A new kind is a row here (and its rows in the store), not a branch in the pump.
 */
const WIRE: { [K in Kind]: { data(event: EventOf<K>): object; roomId(event: EventOf<K>): number } } = {
  message: { data: (e) => toMessage(e.message), roomId: (e) => e.message.roomId },
  'message-updated': { data: (e) => toMessage(e.message), roomId: (e) => e.message.roomId },
  'message-deleted': { data: (e) => ({ roomId: e.roomId, messageId: e.messageId }), roomId: (e) => e.roomId },
}

/** The row of an event's kind (TypeScript cannot correlate the row with the event's kind itself). */
const wire = (event: StoredEvent) => WIRE[event.kind] as { data(event: StoredEvent): object; roomId(event: StoredEvent): number }

/** The room a stored event belongs to. */
export const roomOf = (event: StoredEvent): number => wire(event).roomId(event)

/** A stored event with its number as the SSE id, so a browser resumes from it. JSON has no raw newlines. */
export const storedEventFrame = (event: StoredEvent): Uint8Array =>
  encoder.encode(`event: ${event.kind}\nid: ${event.id}\ndata: ${JSON.stringify(wire(event).data(event))}\n\n`)

/** Any other event: no id (they are not replayed on resume). */
export const eventFrame = (event: string, data: object): Uint8Array =>
  encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
