import type { Bus, BusEvent, BusHandler, Presence, Topic } from './bus'

/** The in-process bus: one instance, no network, every event delivered synchronously. */
export function createMemoryBus(onHandlerError: (error: unknown) => void = () => {}): Bus {
  const handlers = new Map<Topic, Set<BusHandler>>()
  const resyncHandlers = new Set<() => void>()

  return {
    publish(topic: Topic, event: BusEvent) {
      const set = handlers.get(topic)
      if (!set) return
      for (const handler of [...set]) {
        // One failing listener must not stop the others or the publisher.
        try {
          handler(event)
        } catch (error) {
          onHandlerError(error)
        }
      }
    },
    subscribe(topic, handler) {
      let set = handlers.get(topic)
      if (!set) handlers.set(topic, (set = new Set()))
      set.add(handler)
      return () => {
        set.delete(handler)
        if (set.size === 0 && handlers.get(topic) === set) handlers.delete(topic)
      }
    },
    onResync(handler) {
      resyncHandlers.add(handler)
      return () => resyncHandlers.delete(handler)
    },
    healthy: () => true,
    async close() {
      handlers.clear()
      resyncHandlers.clear()
    },
  }
}

/** Presence for one instance: a count of open streams per user, and when each user's last one closed. */
export function createMemoryPresence(): Presence {
  const streams = new Map<number, number>()
  const closedAt = new Map<number, number>()
  return {
    connect(userId) {
      streams.set(userId, (streams.get(userId) ?? 0) + 1)
      closedAt.delete(userId)
    },
    disconnect(userId) {
      const left = (streams.get(userId) ?? 1) - 1
      if (left > 0) return void streams.set(userId, left)
      streams.delete(userId)
      closedAt.set(userId, Date.now())
    },
    async online(userIds) {
      return new Set(userIds.filter((id) => streams.has(id)))
    },
    async seenSince(userIds, since) {
      return new Set(userIds.filter((id) => streams.has(id) || (closedAt.get(id) ?? -Infinity) >= since))
    },
    async close() {
      streams.clear()
      closedAt.clear()
    },
  }
}
