import { Elysia, sse, t } from 'elysia'
import { badRequest } from '../../errors'
import { RETRY_MS } from '../../stream/frames'
import type { StreamHub } from '../../stream/hub'
import { createStreamQuota, type StreamSlot } from '../../stream/stream-quota'
import type { Subscription } from '../../stream/subscription'
import type { AuthPlugin } from '../auth/plugin'
import { ErrorResponse } from '../common/model'
import { RoomParams } from '../rooms/model'
import type { RoomService } from '../rooms/service'

const StreamQuery = t.Object({
  lastEventId: t.Optional(t.String({ description: 'for clients that cannot set the Last-Event-ID header' })),
})

const errorDoc = (description: string) => ({ description, content: { 'application/json': { schema: ErrorResponse } } })

/** The stream's OpenAPI responses (a generator route has no response schema to derive them from). */
const streamResponses = {
  200: {
    description:
      'text/event-stream: `retry:` first, then events numbered from one server-wide sequence: `message` (id = message id, data = Message), `message-updated` (an edit or a change of reactions; data = the Message as it is now) and `message-deleted` (data = {roomId, messageId}); then, with no id and never replayed, `typing`, `room-created`, `room-updated`, `room-deleted` and `read` (data = JSON); and `: ping` comments',
    content: { 'text/event-stream': { schema: { type: 'string' as const } } },
  },
  400: errorDoc('bad Last-Event-ID'),
  401: errorDoc('no session'),
  404: errorDoc('no such room, or a private room the caller is not in'),
  429: errorDoc('the caller already has MAX_STREAMS_PER_USER streams open on this instance (Retry-After)'),
}

/** The Last-Event-ID header, else ?lastEventId=: an event id (0 allowed), or 400. */
function resumePoint(header: string | undefined, query: string | undefined): number | undefined {
  const raw = header?.trim() || query?.trim()
  if (!raw) return undefined
  if (!/^\d{1,15}$/.test(raw)) throw badRequest('Last-Event-ID: must be an event id (a non-negative integer)')
  return Number(raw)
}

type Server = { timeout(request: Request, seconds: number): void } | null

export function streamRoutes({ streams, rooms, authPlugin, maxStreamsPerUser }: { streams: StreamHub; rooms: RoomService; authPlugin: AuthPlugin; maxStreamsPerUser: number }) {
  const quota = createStreamQuota(maxStreamsPerUser)

  /** Opens a stream in a slot of the user's quota; the slot goes back if the open fails. */
  async function opened(slot: StreamSlot, open: () => Promise<Subscription>) {
    try {
      const sub = await open()
      slot.hold(sub)
      return sub
    } catch (error) {
      slot.release()
      throw error
    }
  }

  /**
   * Writes a subscription to the response: the retry hint, then whatever it queues, as fast as
   * the client reads. The generator's `finally` forgets the stream however it ends. Handlers
   * return it rather than delegate to it (`yield*`), so each write resumes one generator.
   */
  async function* pipe(sub: Subscription, slot: StreamSlot, request: Request, server: Server, set: { headers: Record<string, unknown> }) {
    set.headers['cache-control'] = 'no-cache'
    set.headers['x-accel-buffering'] = 'no'
    // Heartbeats keep the stream busy; the server's idle timeout must not cut a quiet one.
    server?.timeout(request, 0)
    // A client that stopped reading cannot be sent an end; its socket goes once it stays idle.
    sub.onCut = () => server?.timeout(request, 1)
    const onAbort = () => sub.end('client-gone')
    request.signal.addEventListener('abort', onAbort)
    try {
      yield sse({ retry: RETRY_MS })
      for (;;) {
        if (sub.catchingUp) await streams.replay(sub)
        else await sub.waitForWork()
        const chunk = sub.take()
        if (chunk) yield chunk
        if (sub.ended) return
      }
    } finally {
      request.signal.removeEventListener('abort', onAbort)
      streams.retire(sub)
      slot.release()
    }
  }

  return new Elysia({ prefix: '/api/chat', tags: ['streams'] })
    .use(authPlugin)
    .get(
      '/rooms/:roomId/subscribe',
      async ({ params, query, headers, session, request, server, set }) => {
        let lastEventId = resumePoint(headers['last-event-id'], query.lastEventId)
        // Before the join below: a refused stream leaves no trace.
        const slot = quota.take(session.user.id)
        const sub = await opened(slot, async () => {
          // As in the origin: subscribing to a public room joins it; the stream starts at the JOIN.
          const joinId = await rooms.joinPublic(params.roomId, session.user.id)
          if (joinId !== null) lastEventId = Math.min(lastEventId ?? joinId - 1, joinId - 1)
          return streams.openRoomStream(session, params.roomId, lastEventId)
        })
        return pipe(sub, slot, request, server, set)
      },
      {
        auth: true,
        params: RoomParams,
        query: StreamQuery,
        detail: {
          summary: "One room's live events",
          description: 'Resumes after Last-Event-ID (header or ?lastEventId=) with no gap and no duplicate: every numbered event newer than it, then the live ones. Subscribing to a public room joins it.',
          responses: streamResponses,
        },
      },
    )
    .get(
      '/stream',
      async ({ query, headers, session, request, server, set }) => {
        const lastEventId = resumePoint(headers['last-event-id'], query.lastEventId)
        const slot = quota.take(session.user.id)
        return pipe(await opened(slot, () => streams.openUserStream(session, lastEventId)), slot, request, server, set)
      },
      {
        auth: true,
        query: StreamQuery,
        detail: {
          summary: "All of the caller's rooms on one stream",
          description: 'Includes rooms joined or added to while connected. One connection per browser tab is enough.',
          responses: streamResponses,
        },
      },
    )
}
