/**
 * The event bus: how one instance tells the others (and itself) that something happened.
 *
 * Guarantees every implementation keeps:
 * - `publish` never throws and never blocks the caller on the network. Handlers on the
 *   publishing instance are called synchronously, in publish order, before `publish` returns,
 *   so an instance's own streams keep working even when the network between instances is down.
 * - Handlers on other instances get the event at most once, best effort (Redis pub/sub is
 *   lossy). Per topic, events from one publisher arrive in publish order; across publishers
 *   there is no order.
 * - The bus carries notifications, never the truth: the store assigns ids and holds every
 *   message. A `message` event means "this room has news up to event messageId"; readers fetch
 *   what is newer than what they already delivered from the store, so a lost or late event
 *   delays delivery but never loses or reorders a message or a change.
 * - When events may have been lost (a Redis reconnect), `onResync` handlers run so listeners
 *   reconcile with the store.
 */


export type BusEvent =
  /**
   * An event was stored in roomId (a message, or a change of one); messageId is its number in
   * the event sequence (a new message's id), the room's newest known event.
   */
  | { type: 'message'; roomId: number; messageId: number }
  /** userId is typing in roomId (ephemeral). */
  | { type: 'typing'; roomId: number; userId: number }
  /** userId moved their read marker in roomId (their other tabs clear the badge). */
  | { type: 'read'; roomId: number; userId: number; messageId: number }
  /**
   * On a user topic: userId gained the room (created, added, joined) or lost it (left,
   * removed). sinceId: events of the room newer than it are the user's to receive live.
   */
  | { type: 'room-created' | 'room-left'; roomId: number; userId: number; sinceId?: number }
  /** On a room topic: its name or participants changed, or it was deleted (userId: who did it). */
  | { type: 'room-updated' | 'room-deleted'; roomId: number; userId?: number }
  /** A session or access token of userId ended (logout, revocation, deactivation): streams opened with it close. */
  | { type: 'session-revoked'; userId: number; sessionId: number }

/** Topics: `room:<id>` carries room events, `user:<id>` carries what one user's streams need. */
export type Topic = `room:${number}` | `user:${number}`

export const roomTopic = (roomId: number): Topic => `room:${roomId}`
export const userTopic = (userId: number): Topic => `user:${userId}`

export type BusHandler = (event: BusEvent) => void

export interface Bus {
  /** Deliver to every handler of `topic` on every instance (this one synchronously). */
  publish(topic: Topic, event: BusEvent): void
  /**
   * Start receiving a topic's events. An instance should subscribe only to topics its
   * connected clients need; the returned function stops it (handlers are reference-counted
   * per topic, so the network subscription ends with the last handler).
   */
  subscribe(topic: Topic, handler: BusHandler): () => void
  /** Called after events may have been lost (reconnect); returns an unsubscribe function. */
  onResync(handler: () => void): () => void
  /** Whether the bus can currently reach the other instances (always true in-process). */
  healthy(): boolean
  close(): Promise<void>
}

/**
 * Who has an open stream, across instances. `online` becomes false within 5 s of a user's last
 * stream closing and within 30 s of an instance dying without closing its streams.
 */
export interface Presence {
  /** A stream of userId opened on this instance. */
  connect(userId: number): void
  /** A stream of userId closed on this instance. */
  disconnect(userId: number): void
  /** The subset of userIds that have at least one open stream on any instance. */
  online(userIds: number[]): Promise<Set<number>>
  /**
   * The subset of userIds that had a stream open on any instance at some moment since `since`
   * (epoch ms, at most the implementation's `recentMs` ago), open ones included: who is away
   * for Web Push. Best effort across instances, like `online`.
   */
  seenSince(userIds: number[], since: number): Promise<Set<number>>
  close(): Promise<void>
}
