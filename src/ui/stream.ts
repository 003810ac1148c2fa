import type { Message, MessageDeletedEvent, ReadEvent, RoomChangeEvent, TypingEvent } from './types.ts'

export type RoomChange = 'room-created' | 'room-updated' | 'room-deleted'
export type StreamStatus = 'connecting' | 'open' | 'reconnecting'

export interface StreamHandlers {
  message(message: Message): void
  /** An edit or a change of reactions: the message as it is now. */
  messageUpdated(message: Message): void
  messageDeleted(event: MessageDeletedEvent): void
  typing(event: TypingEvent): void
  read(event: ReadEvent): void
  roomChange(change: RoomChange, event: RoomChangeEvent): void
  status(status: StreamStatus): void
  /**
   * The stream is open. `resumed` is false when it started without a Last-Event-ID (no message
   * known yet): whatever was posted before it opened has to be fetched, since the server only
   * replays what is newer than an id it was given.
   */
  opened(resumed: boolean): void
  /** Asked before reopening a stream the browser gave up on; false stops reconnecting. */
  canReconnect(): Promise<boolean>
}

const ROOM_CHANGES: RoomChange[] = ['room-created', 'room-updated', 'room-deleted']
const MAX_BACKOFF_MS = 10_000

/**
 * The one `/api/chat/stream` connection of this tab, resuming after `resumeAfter` (the newest
 * message id the page has loaded) so nothing posted since falls between the page and the stream.
 * Messages, edits, deletions and reaction changes share one numbered sequence, so resuming after
 * the last event id seen replays the changes missed as well as the messages.
 *
 * EventSource reconnects by itself after a dropped connection and sends `Last-Event-ID`.
 * It gives up for good (readyState CLOSED) when a reconnect gets an HTTP error, which happens
 * while a server restarts behind a proxy; then a new EventSource is opened after a backoff,
 * resuming with `?lastEventId=` (a new EventSource cannot be given the header). A message that
 * arrives twice across these resumes replaces itself by id downstream.
 */
export function openStream(handlers: StreamHandlers, resumeAfter: number | null): { close(): void } {
  let source: EventSource | null = null
  let lastEventId = resumeAfter
  let failures = 0
  let retryTimer: ReturnType<typeof setTimeout> | undefined
  let stopped = false

  const parse = <T>(event: Event): T | null => {
    const { data, lastEventId: id } = event as MessageEvent<string>
    // Events without an id (typing, room changes) leave lastEventId as it was.
    const number = Number(id)
    if (id && number > (lastEventId ?? 0)) lastEventId = number
    try {
      return JSON.parse(data) as T
    } catch {
      return null
    }
  }
  const on = <T>(source: EventSource, type: string, handle: (data: T) => void) =>
    source.addEventListener(type, (event) => {
      const data = parse<T>(event)
      if (data) handle(data)
    })

  function connect(): void {
    const url = lastEventId === null ? '/api/chat/stream' : `/api/chat/stream?lastEventId=${lastEventId}`
    const current = new EventSource(url)
    source = current
    handlers.status(failures === 0 ? 'connecting' : 'reconnecting')

    current.onopen = () => {
      failures = 0
      handlers.status('open')
      handlers.opened(lastEventId !== null)
    }
    on<Message>(current, 'message', handlers.message)
    on<Message>(current, 'message-updated', handlers.messageUpdated)
    on<MessageDeletedEvent>(current, 'message-deleted', handlers.messageDeleted)
    on<TypingEvent>(current, 'typing', handlers.typing)
    on<ReadEvent>(current, 'read', handlers.read)
    for (const change of ROOM_CHANGES) on<RoomChangeEvent>(current, change, (data) => handlers.roomChange(change, data))
    current.onerror = () => {
      if (stopped || source !== current) return
      handlers.status('reconnecting')
      if (current.readyState !== EventSource.CLOSED) return
      source = null
      failures += 1
      const backoff = Math.min(MAX_BACKOFF_MS, 500 * 2 ** (failures - 1))
      // Jitter spreads a whole team's tabs out when the server comes back.
      retryTimer = setTimeout(reopen, backoff * (0.5 + Math.random() / 2))
    }
  }

  async function reopen(): Promise<void> {
    if (stopped) return
    if (await handlers.canReconnect()) {
      if (!stopped) connect()
    }
  }

  connect()
  return {
    close() {
      stopped = true
      clearTimeout(retryTimer)
      source?.close()
      source = null
    },
  }
}
