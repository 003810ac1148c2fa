import { ApiError, api } from './api.ts'
import type { PendingMessage } from './message-item.ts'
import type { Attachment, Message } from './types.ts'

export interface OutboxEvents {
  /** The pending messages of a room changed (added, failed, retried, confirmed). */
  changed(roomId: number): void
  /** The server stored a message this tab sent (its answer to the send). */
  confirmed(message: Message): void
}

/**
 * Messages this tab sent and the server has not confirmed. Each carries a clientMessageId
 * chosen once, so a retry after a lost answer cannot store the message twice: the server
 * answers a repeat with the first message.
 */
export function createOutbox(events: OutboxEvents) {
  const pending = new Map<string, PendingMessage>()

  async function deliver(entry: PendingMessage): Promise<void> {
    entry.state = 'sending'
    entry.error = null
    events.changed(entry.roomId)
    try {
      const message = await api.send(entry.roomId, entry.content, entry.clientMessageId, entry.replyToId, entry.attachments.map((file) => file.id))
      events.confirmed(message)
      forget(entry.clientMessageId)
    } catch (error) {
      // The stream may have confirmed it in the meantime.
      if (!pending.has(entry.clientMessageId)) return
      entry.state = 'failed'
      entry.error = reason(error)
      events.changed(entry.roomId)
    }
  }

  function forget(clientMessageId: string): void {
    const entry = pending.get(clientMessageId)
    if (!entry) return
    pending.delete(clientMessageId)
    events.changed(entry.roomId)
  }

  return {
    /** `attachments` are uploaded already: a retry posts the same ones again. */
    send(roomId: number, content: string, replyToId: number | null, attachments: Attachment[]): void {
      const entry: PendingMessage = {
        clientMessageId: crypto.randomUUID(),
        roomId,
        content,
        replyToId,
        attachments,
        createdAt: new Date().toISOString(),
        state: 'sending',
        error: null,
      }
      pending.set(entry.clientMessageId, entry)
      void deliver(entry)
    },

    retry(clientMessageId: string): void {
      const entry = pending.get(clientMessageId)
      if (entry && entry.state === 'failed') void deliver(entry)
    },

    /** A message from the stream: if it is one of ours, it is no longer pending. */
    settleFromStream(message: Message): void {
      if (message.clientMessageId) forget(message.clientMessageId)
    },

    forRoom(roomId: number): PendingMessage[] {
      return [...pending.values()].filter((entry) => entry.roomId === roomId)
    },

    /** Forgets a room's unsent messages, once the room is gone. */
    dropRoom(roomId: number): void {
      for (const entry of pending.values()) if (entry.roomId === roomId) pending.delete(entry.clientMessageId)
    },
  }
}

function reason(error: unknown): string {
  if (!(error instanceof ApiError)) return 'something went wrong'
  if (error.status === 0) return 'no connection'
  if (error.status === 429 && error.retryAfter) return `too many messages, wait ${error.retryAfter} s`
  return error.message
}

export type Outbox = ReturnType<typeof createOutbox>
