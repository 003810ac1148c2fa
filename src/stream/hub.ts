import { roomTopic, userTopic, type Bus, type BusEvent, type Presence, type Topic } from '../bus/bus'
import type { Logger } from '../log'
import type { Metrics } from '../metrics'
import type { Session } from '../modules/auth/service'
import type { Store, StoredEvent } from '../store/store'
import { eventFrame, PING, roomOf, storedEventFrame } from './frames'
import { Subscription } from './subscription'

/** Events read from the store per query, by the live pump and by a resuming stream. */
const PAGE = 500
/** With a lossy bus (Redis), how often the pump checks the store for news it was not told. */
const SAFETY_POLL_MS = 1000
/** After a failed read of the store, the pump tries again this soon. */
const PUMP_RETRY_MS = 500

export interface StreamHubOptions {
  store: Store
  bus: Bus
  presence: Presence
  metrics: Metrics
  log: Logger
  heartbeatIntervalMs: number
  maxQueuedBytes: number
  /** Poll the store now and then in case a bus notification was lost (Redis). */
  safetyPoll: boolean
}

/**
 * Live delivery on one instance. The store is the truth and the bus only says "news":
 *
 * - Everything a stream replays is a stored event of one server-wide sequence (store.ts): a
 *   new message (`message`, its id is its number), an edit or a change of reactions
 *   (`message-updated`, the message as it is now), a deletion (`message-deleted`). The hub
 *   does not tell them apart: it reads events by number, finds each one's room and encodes it
 *   with the row of its kind in frames.ts. A new kind of change is a kind in the store and a
 *   row there; the order, gap, duplicate, resume, hand-over and outage arguments below are
 *   about numbers, so they hold for it unchanged.
 * - One pump per instance reads every event newer than its cursor from the store, in id
 *   order, encodes each once and hands the same bytes to every local stream of that room.
 *   Event ids follow commit order, so reading "id > cursor" never skips an event, and every
 *   stream sees ascending ids, whichever instance an event was written on and however late
 *   or out of order the notifications arrive.
 * - A stream remembers the highest id it was sent (`sentId`) and only gets newer ones.
 * - A resuming stream (Last-Event-ID) first replays from the store page by page, as fast as
 *   the client reads; the pump skips it meanwhile. It turns live only when a replay page was
 *   short and the pump's cursor has not moved past it, so the hand-over has no gap and no
 *   duplicate by construction (see `replay`). Replay reads the messages as they are now: an
 *   edited message comes with its new content (its later `message-updated` events repeat
 *   it), and a deleted one is left out, its updates too; only its `message-deleted` remains.
 *   The pump reads the same way, so a message deleted before the pump read it is left out
 *   live as well: a client applying the events in order still ends with the room's history.
 */
export async function createStreamHub(options: StreamHubOptions) {
  const { store, bus, presence, metrics, log } = options
  let cursor = await store.maxEventId()
  const roomStreams = new Map<number, Set<Subscription>>()
  const userStreams = new Map<number, Set<Subscription>>()
  const topics = new Map<Topic, { count: number; unsubscribe: () => void }>()

  // --- bus topics, reference-counted so an instance listens only where it has streams

  function listen(topic: Topic) {
    const held = topics.get(topic)
    if (held) return void held.count++
    topics.set(topic, { count: 1, unsubscribe: bus.subscribe(topic, onEvent) })
  }

  function unlisten(topic: Topic) {
    const held = topics.get(topic)
    if (!held) return
    if (--held.count === 0) {
      topics.delete(topic)
      held.unsubscribe()
    }
  }

  /** `sinceId`: for a room gained while connected, nothing at or below it is the stream's. */
  function addToRoom(sub: Subscription, roomId: number, sinceId = 0) {
    if (sub.rooms.has(roomId)) return
    sub.rooms.add(roomId)
    if (sinceId > 0) (sub.joinedAfter ??= new Map()).set(roomId, sinceId)
    let set = roomStreams.get(roomId)
    if (!set) roomStreams.set(roomId, (set = new Set()))
    set.add(sub)
    listen(roomTopic(roomId))
  }

  function removeFromRoom(sub: Subscription, roomId: number) {
    if (!sub.rooms.delete(roomId)) return
    sub.joinedAfter?.delete(roomId)
    const set = roomStreams.get(roomId)
    set?.delete(sub)
    if (set?.size === 0) roomStreams.delete(roomId)
    unlisten(roomTopic(roomId))
  }

  // --- the pump

  let pumping = false
  let again = false
  let scheduled = false
  /** After stop(): the store is closing, nothing more is read. */
  let stopped = false

  /**
   * Asks for a pump after the current batch of I/O: the news of every post handled in this
   * turn of the event loop is read from the store with one query.
   */
  function schedulePump() {
    if (scheduled || stopped) return
    scheduled = true
    setImmediate(() => {
      scheduled = false
      void pump()
    })
  }

  /** Reads and delivers everything newer than the cursor; concurrent calls coalesce. */
  async function pump() {
    if (pumping) return void (again = true)
    pumping = true
    try {
      do {
        again = false
        for (;;) {
          const events = await store.eventsAfter(cursor, PAGE)
          for (const event of events) deliver(event)
          if (events.length < PAGE) break
        }
      } while (again)
    } catch (error) {
      // The store did not answer (PostgreSQL cut off, past its deadline): what was committed
      // stays there to read, so try again soon rather than only on the next news.
      log.error('delivery pump failed; retrying', { error: String(error) })
      if (!stopped) setTimeout(schedulePump, PUMP_RETRY_MS).unref?.()
    } finally {
      pumping = false
    }
  }

  function deliver(event: StoredEvent) {
    cursor = event.id
    const roomId = roomOf(event)
    const subs = roomStreams.get(roomId)
    if (!subs) return
    let frame: Uint8Array | null = null
    let delivered = 0
    for (const sub of subs) {
      if (sub.catchingUp || event.id <= sub.sentId) continue
      // A lagging cursor can reach back before this stream's user joined the room.
      if (sub.joinedAfter !== null && event.id <= (sub.joinedAfter.get(roomId) ?? 0)) continue
      frame ??= storedEventFrame(event)
      sub.sentId = event.id
      if (sub.push(frame)) delivered++
      else retire(sub)
    }
    if (delivered > 0) {
      metrics.eventsDelivered.inc(undefined, delivered)
      metrics.deliveryLatency.observe(Math.max(0, Date.now() - event.at) / 1000, undefined, delivered)
    }
  }

  // --- bus events

  function onEvent(event: BusEvent) {
    switch (event.type) {
      case 'message':
        if (event.messageId > cursor) schedulePump()
        return
      case 'typing':
        return broadcast(event.roomId, eventFrame('typing', { roomId: event.roomId, userId: event.userId }), (sub) => sub.userId !== event.userId)
      case 'room-updated':
        return broadcast(event.roomId, eventFrame('room-updated', { roomId: event.roomId }), (sub) => sub.kind === 'user')
      case 'room-deleted':
        return roomGone(event.roomId, null)
      case 'room-left':
        return roomGone(event.roomId, event.userId)
      case 'room-created':
        return void roomGained(event.roomId, event.userId, event.sinceId ?? cursor)
      case 'read':
        return forUser(event.userId, (sub) => {
          if (sub.kind === 'user') sub.push(eventFrame('read', { roomId: event.roomId, userId: event.userId, messageId: event.messageId }))
        })
      case 'session-revoked':
        return endSession(event.userId, event.sessionId)
    }
  }

  /** A session or access token ended (logout, revocation, deactivation): its streams end. */
  function endSession(userId: number, sessionId: number) {
    forUser(userId, (sub) => {
      if (sub.session.id === sessionId) sub.end('logout')
    })
  }

  function broadcast(roomId: number, frame: Uint8Array, to: (sub: Subscription) => boolean) {
    for (const sub of roomStreams.get(roomId) ?? []) if (to(sub) && !sub.push(frame)) retire(sub)
  }

  function forUser(userId: number, fn: (sub: Subscription) => void) {
    for (const sub of [...(userStreams.get(userId) ?? [])]) fn(sub)
  }

  /** The room is gone for everyone (userId null) or for one user who left. */
  function roomGone(roomId: number, userId: number | null) {
    const frame = eventFrame('room-deleted', { roomId })
    for (const sub of [...(roomStreams.get(roomId) ?? [])]) {
      if (userId !== null && sub.userId !== userId) continue
      if (sub.kind === 'room') sub.end(userId === null ? 'room-deleted' : 'left', frame)
      else {
        removeFromRoom(sub, roomId)
        sub.push(frame)
      }
    }
  }

  /**
   * A user gained a room while connected: their user streams start receiving it. If the pump
   * already passed some of the room's events since `sinceId` (the notification can travel
   * apart from the news), those newer than what a stream has sent are sent now, in order;
   * anything older would break the stream's id order (and with it resume), so it is left to
   * the room's history, which clients load on room-created.
   */
  async function roomGained(roomId: number, userId: number, sinceId: number) {
    const subs = [...(userStreams.get(userId) ?? [])].filter((s) => s.kind === 'user' && !s.rooms.has(roomId) && !s.ended)
    if (subs.length === 0) return
    const passed = cursor
    const frame = eventFrame('room-created', { roomId })
    for (const sub of subs) {
      addToRoom(sub, roomId, sinceId)
      sub.push(frame)
    }
    if (passed <= sinceId) return
    let missed: StoredEvent[]
    try {
      missed = (await store.roomEventsAfter(roomId, sinceId, PAGE)).filter((event) => event.id <= passed)
    } catch (error) {
      // The room's past could not be read (the store did not answer): end these streams
      // cleanly, so their clients resume from the store with their Last-Event-ID.
      log.warn('a room gained could not be read; its streams resume', { roomId, error: String(error) })
      for (const sub of subs) sub.end('shutdown')
      return
    }
    const frames = missed.map(storedEventFrame)
    for (const sub of subs) {
      // A replaying stream reads its rooms from the store itself.
      if (sub.catchingUp) continue
      for (const [i, event] of missed.entries()) {
        if (event.id <= sub.sentId) continue
        sub.sentId = event.id
        if (!sub.push(frames[i]!)) break
      }
    }
  }

  // --- opening and closing streams

  function register(sub: Subscription) {
    let set = userStreams.get(sub.userId)
    if (!set) userStreams.set(sub.userId, (set = new Set()))
    set.add(sub)
    listen(userTopic(sub.userId))
    presence.connect(sub.userId)
    metrics.streamsOpen.inc()
  }

  /** Forgets a stream (idempotent). */
  function retire(sub: Subscription) {
    const set = userStreams.get(sub.userId)
    if (!set?.delete(sub)) return
    if (set.size === 0) userStreams.delete(sub.userId)
    for (const roomId of [...sub.rooms]) removeFromRoom(sub, roomId)
    unlisten(userTopic(sub.userId))
    presence.disconnect(sub.userId)
    metrics.streamsOpen.dec()
    if (sub.ended === 'too-slow') metrics.streamsCut.inc()
  }

  /**
   * A new stream starts at the store's newest event, or replays from lastEventId when that
   * is older. The pump is nudged because its cursor can lag the store: news of rooms with no
   * local stream is not sent to this instance.
   */
  async function open(kind: 'room' | 'user', session: Session, roomIds: number[], lastEventId: number | undefined) {
    const head = await store.maxEventId()
    const resume = lastEventId !== undefined && lastEventId < head
    const sub = new Subscription(kind, session, options.maxQueuedBytes, {
      sentId: lastEventId ?? head,
      catchingUp: resume,
    })
    register(sub)
    for (const roomId of roomIds) addToRoom(sub, roomId)
    schedulePump()
    return sub
  }

  /**
   * Replays what a resuming stream missed, one page per call, as the client reads. Returns
   * false once the stream is live. Correctness of the hand-over: a page that came back short
   * holds every event of the stream's scope committed before it was read; if the pump's
   * cursor did not move while the page was read, every later event is newer than the
   * cursor and the pump will send it. If the cursor moved, read again.
   */
  async function replay(sub: Subscription): Promise<boolean> {
    if (!sub.catchingUp || sub.ended) return false
    const seen = cursor
    const events =
      sub.kind === 'room'
        ? await store.roomEventsAfter([...sub.rooms][0]!, sub.sentId, PAGE)
        : await store.userEventsAfter(sub.userId, sub.sentId, PAGE)
    for (const event of events) {
      if (!sub.push(storedEventFrame(event))) return false
      sub.sentId = event.id
    }
    if (events.length < PAGE) {
      sub.sentId = Math.max(sub.sentId, seen)
      if (cursor === seen) sub.catchingUp = false
    }
    metrics.eventsDelivered.inc(undefined, events.length)
    return sub.catchingUp
  }

  const heartbeat = setInterval(() => {
    for (const set of userStreams.values()) for (const sub of set) if (!sub.push(PING)) retire(sub)
  }, options.heartbeatIntervalMs)
  heartbeat.unref?.()

  const safety = options.safetyPoll
    ? setInterval(async () => {
        try {
          if ((await store.maxEventId()) > cursor) schedulePump()
        } catch (error) {
          log.warn('safety poll: the store did not answer', { error: String(error) })
        }
      }, SAFETY_POLL_MS)
    : null
  safety?.unref?.()

  // After the bus may have dropped events (Redis was away): deliver what the store has, end
  // the streams of sessions that ended meanwhile, and bring every stream's rooms in line
  // with the store's memberships.
  const stopResync = bus.onResync(() => void resync().catch((error) => log.error('resync failed', { error: String(error) })))
  async function resync() {
    void pump()
    for (const [userId, set] of [...userStreams]) {
      const rooms = new Set(await store.roomIdsOf(userId))
      for (const sub of [...set]) {
        if (!(await store.sessionAlive(sub.session.id, Date.now()))) {
          sub.end('logout')
          continue
        }
        for (const roomId of [...sub.rooms]) if (!rooms.has(roomId)) roomGone(roomId, userId)
      }
      const live = [...set].filter((sub) => sub.kind === 'user' && !sub.ended)
      if (live.length === 0) continue
      const since = Math.min(...live.map((sub) => sub.sentId))
      await Promise.all([...rooms].map((roomId) => roomGained(roomId, userId, since)))
    }
  }

  return {
    openRoomStream: (session: Session, roomId: number, lastEventId?: number) => open('room', session, [roomId], lastEventId),
    async openUserStream(session: Session, lastEventId?: number) {
      return open('user', session, await store.roomIdsOf(session.user.id), lastEventId)
    },
    replay,
    retire,
    /** Ends the streams of a session another process ended (the revocation log). */
    endSession,
    /** Ends every stream cleanly (shutdown): clients reconnect elsewhere and resume. */
    endAll() {
      for (const set of userStreams.values()) for (const sub of set) sub.end('shutdown')
    },
    stop() {
      stopped = true
      clearInterval(heartbeat)
      if (safety) clearInterval(safety)
      stopResync()
    },
    get cursor() {
      return cursor
    },
  }
}

export type StreamHub = Awaited<ReturnType<typeof createStreamHub>>
