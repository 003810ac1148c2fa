import type { Bus, BusEvent, BusHandler, Topic } from './bus'
import { checkRedisUrl, DEFAULT_HEARTBEAT_MS, type Log, noLog, openRedisLink, throttledLog } from './redis-client'

/**
 * The bus between instances, over Redis pub/sub.
 *
 * One channel per topic (`chat:room:12`, `chat:user:7`), subscribed only while this instance has
 * a handler for the topic, so an instance hears only what its own clients need. Handlers here
 * are called directly by `publish`; the event also goes to Redis as `{o: instanceId, e: event}`
 * and each instance drops its own echoes. While Redis is away local delivery goes on, publishes
 * are dropped (never queued), and once both connections are back the handlers of `onResync`
 * run, on this instance for what it could not hear and, through `chat:control`, on the others
 * for what this one could not send.
 */

const CHANNEL_PREFIX = 'chat:'
/** Always subscribed: `{o, resync: true}` asks every other instance to reconcile. */
const CONTROL_CHANNEL = 'chat:control'

/**
 * The integer fields each event type carries (`?`: may be absent): what a payload from another
 * instance must look like before handlers see it. Keyed by every type, so a new event type does
 * not compile until it is listed here.
 */
const EVENT_FIELDS: Record<BusEvent['type'], readonly string[]> = {
  message: ['roomId', 'messageId'],
  typing: ['roomId', 'userId'],
  read: ['roomId', 'userId', 'messageId'],
  'room-created': ['roomId', 'userId'],
  'room-left': ['roomId', 'userId'],
  'room-updated': ['roomId', 'userId?'],
  'room-deleted': ['roomId', 'userId?'],
  'session-revoked': ['userId', 'sessionId'],
}

export interface RedisBusOptions {
  url: string
  /** Unique per running instance: how it recognises (and drops) its own echoes. */
  instanceId: string
  log?: Log
  /** PING interval and answer deadline per connection; a silent Redis is noticed within ~2x. */
  heartbeatMs?: number
}

type Wire = { o: string; e: BusEvent } | { o: string; resync: true }

export function createRedisBus(options: RedisBusOptions): Bus {
  checkRedisUrl(options.url)
  if (!options.instanceId) throw new Error('createRedisBus: instanceId must not be empty')
  const { instanceId } = options
  const log = options.log ?? noLog
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS
  const handlerFailures = throttledLog(log)
  const malformed = throttledLog(log)

  // A Set of wrappers, not of functions, so one function subscribed twice counts twice.
  const handlers = new Map<Topic, Set<{ handler: BusHandler }>>()
  const resyncHandlers = new Set<() => void>()
  /** The subscriber is ready and every wanted channel is subscribed again. */
  let subscriberLive = false
  /** Bumped on every subscriber ready/lost, so a slow restore can tell it is out of date. */
  let subscriberEpoch = 0
  /** Publishes dropped since the others were last told to resync. */
  let dropped = 0
  let closing: Promise<void> | null = null

  const link = (name: string, onReady: (first: boolean) => void, onLost: () => void) =>
    openRedisLink({ url: options.url, name, instanceId, log, heartbeatMs, onReady, onLost })
  const publisher = link('publisher', () => announceResync(), () => {})
  const subscriber = link('subscriber', (first) => void restore(first), () => {
    subscriberLive = false
    subscriberEpoch++
  })
  subscriber.client.on('message', receive)

  function deliver(topic: Topic, event: BusEvent) {
    const set = handlers.get(topic)
    if (!set) return
    for (const entry of [...set]) {
      // An earlier handler of this same event may have unsubscribed this one.
      if (!set.has(entry)) continue
      guarded(
        () => entry.handler(event),
        (err) => handlerFailures.log('error', 'bus handler failed', { topic, type: event.type, error: String(err) }),
      )
    }
  }

  function runResync() {
    for (const handler of [...resyncHandlers]) {
      guarded(handler, (err) => handlerFailures.log('error', 'bus resync handler failed', { error: String(err) }))
    }
  }

  function drop() {
    dropped++
  }

  /** Re-subscribes every channel this instance still wants, then reconciles if it may have missed events. */
  async function restore(first: boolean) {
    const epoch = ++subscriberEpoch
    const channels = [CONTROL_CHANNEL, ...[...handlers.keys()].map((topic) => CHANNEL_PREFIX + topic)]
    try {
      await subscriber.client.subscribe(...channels)
    } catch (err) {
      // The connection went again; its next `ready` restores.
      log('debug', 'redis resubscribe failed', { error: String(err) })
      return
    }
    if (epoch !== subscriberEpoch || closing) return
    subscriberLive = true
    // Handlers that existed while this instance could not hear may have missed events; after a
    // loss, anything may have been missed.
    if (!first || handlers.size > 0) runResync()
  }

  /** Tells the other instances that events this one published may never have reached them. */
  function announceResync() {
    if (dropped === 0) return
    log('warn', 'redis publishes were dropped while disconnected; asking instances to resync', { dropped })
    const count = dropped
    dropped = 0
    const payload: Wire = { o: instanceId, resync: true }
    publisher.client.publish(CONTROL_CHANNEL, JSON.stringify(payload)).catch(() => {
      dropped += count
    })
  }

  function receive(channel: string, payload: string) {
    const wire = parse(payload)
    if (!wire) {
      malformed.log('warn', 'malformed bus payload ignored', { channel, payload: payload.slice(0, 200) })
      return
    }
    if (wire.o === instanceId) return
    if ('resync' in wire) runResync()
    else if (channel.startsWith(CHANNEL_PREFIX) && channel !== CONTROL_CHANNEL) {
      deliver(channel.slice(CHANNEL_PREFIX.length) as Topic, wire.e)
    }
  }

  return {
    publish(topic, event) {
      deliver(topic, event)
      if (closing) return
      if (!publisher.ready()) return drop()
      const wire: Wire = { o: instanceId, e: event }
      publisher.client.publish(CHANNEL_PREFIX + topic, JSON.stringify(wire)).catch(drop)
    },

    subscribe(topic, handler) {
      const channel = CHANNEL_PREFIX + topic
      let set = handlers.get(topic)
      if (!set) {
        handlers.set(topic, (set = new Set()))
        // Not ready: the next `ready` subscribes every wanted channel.
        if (subscriber.ready()) subscriber.client.subscribe(channel).catch(() => {})
      }
      const entry = { handler }
      set.add(entry)
      let subscribed = true
      return () => {
        if (!subscribed) return
        subscribed = false
        set.delete(entry)
        if (set.size > 0 || handlers.get(topic) !== set) return
        handlers.delete(topic)
        if (subscriber.ready()) subscriber.client.unsubscribe(channel).catch(() => {})
      }
    },

    onResync(handler) {
      resyncHandlers.add(handler)
      return () => {
        resyncHandlers.delete(handler)
      }
    },

    healthy: () => !closing && subscriberLive && publisher.ready(),

    close() {
      closing ??= (async () => {
        handlers.clear()
        resyncHandlers.clear()
        await Promise.all([publisher.close(), subscriber.close()])
      })()
      return closing
    },
  }
}

/**
 * Runs a handler so its failure never reaches `publish` or ioredis's event loop. Handlers are
 * typed to return nothing, but an async one returns a promise, whose rejection is caught too.
 */
function guarded(handler: () => unknown, onError: (err: unknown) => void) {
  try {
    const result = handler()
    if (result instanceof Promise) result.catch(onError)
  } catch (err) {
    onError(err)
  }
}

/** The payload as a Wire, or null when it is not one (another version, another program, noise). */
function parse(payload: string): Wire | null {
  let value: unknown
  try {
    value = JSON.parse(payload)
  } catch {
    return null
  }
  if (typeof value !== 'object' || value === null) return null
  const wire = value as Record<string, unknown>
  if (typeof wire.o !== 'string') return null
  if (wire.resync === true) return { o: wire.o, resync: true }
  const event = wire.e as Record<string, unknown> | null | undefined
  if (typeof event !== 'object' || event === null || typeof event.type !== 'string') return null
  if (!Object.hasOwn(EVENT_FIELDS, event.type)) return null
  const valid = EVENT_FIELDS[event.type as BusEvent['type']].every((field) =>
    field.endsWith('?')
      ? event[field.slice(0, -1)] === undefined || Number.isSafeInteger(event[field.slice(0, -1)])
      : Number.isSafeInteger(event[field]),
  )
  if (!valid) return null
  return { o: wire.o, e: event as BusEvent }
}
