/**
 * The storage interface: everything the services persist or read, one method per use case,
 * so a backend (SQLite today, PostgreSQL later) owns its transactions and its SQL.
 *
 * Guarantees every implementation keeps:
 * - One server-wide event sequence. A new message takes the next number, and that number is
 *   its id; an edit, a deletion or a change of reactions takes the next number too and is
 *   stored as an event of that message. Numbers increase with commit order: once a reader has
 *   seen event N committed, every event committed later has a number > N. So they are
 *   assigned under a lock held to commit (SQLite: its single writer; PostgreSQL: a counter row
 *   updated in the writing transaction), never from a plain sequence, which commits out of
 *   order. Numbers never go backwards, even after the newest rows are deleted.
 * - Each method is atomic: a membership change and the JOIN/LEAVE message it writes commit
 *   together or not at all; so do a change and its event.
 * - A deleted message is gone: from history, from the events read back (its `message` and
 *   `message-updated` events are left out; its `message-deleted` event stays), from
 *   `lastMessage`, `unreadCount` and `mentionCount`.
 * - Every method with a `limit` clamps it to at most MAX_LIMIT: no query runs without a bound.
 * - Times are epoch milliseconds (UTC); the API layer formats them.
 */

/** The largest page any store method returns, whatever limit it is asked for. */
export const MAX_LIMIT = 500

export type MessageType = 'MESSAGE' | 'JOIN' | 'LEAVE'
export type RoomType = 'group' | 'direct'
export type Visibility = 'public' | 'private'

export type Role = 'admin' | 'member' | 'bot'

export interface UserRecord {
  id: number
  username: string
  displayName: string
  createdAt: number
  role: Role
  /** Epoch ms of the deactivation; null while active. */
  deactivatedAt: number | null
}

export interface RoomRecord {
  id: number
  name: string
  type: RoomType
  visibility: Visibility
  ownerId: number
  createdAt: number
}

export type NotificationLevel = 'all' | 'mentions' | 'none'

export interface Reaction {
  emoji: string
  /** Ascending. */
  userIds: number[]
}

/** A file as a message carries it (the JSON copy on the message row). */
export interface AttachmentRecord {
  id: number
  name: string
  contentType: string
  size: number
  width: number | null
  height: number | null
}

/** The part of a file a message carries (its JSON copy), in both stores. */
export const attachmentOf = (f: AttachmentRecord): AttachmentRecord => ({
  id: f.id,
  name: f.name,
  contentType: f.contentType,
  size: f.size,
  width: f.width,
  height: f.height,
})

/** An upload: its room, who sent it, the message it belongs to once posted, its disk name. */
export interface FileRecord extends AttachmentRecord {
  roomId: number
  uploaderId: number
  messageId: number | null
  /** The server-made name under FILES_PATH; never shown to clients. */
  storageKey: string
  createdAt: number
}

/**
 * postMessage's `attachmentIds` named a file that is not the sender's upload in that room, or
 * one already attached: checked inside the write, so two posts can never take the same file.
 */
export class UnattachableFilesError extends Error {}

/**
 * postMessage's sender is not (or no longer) a participant of the room, or the room is gone:
 * checked inside the write, so a post racing a leave or a deletion stores nothing.
 */
export class NotParticipantError extends Error {}

/**
 * The database did not answer in time or cannot be reached (a partition, a restart): the
 * request gets 503 and may be retried. The write may or may not have committed; a post retried
 * with its clientMessageId is stored once either way.
 */
export class StoreUnavailableError extends Error {}

export interface MessageRecord {
  id: number
  roomId: number
  senderId: number
  content: string
  messageType: MessageType
  createdAt: number
  clientMessageId: string | null
  /** Epoch ms of the last edit. */
  editedAt: number | null
  replyToId: number | null
  /** User ids, ascending. */
  mentions: number[]
  /** In the order each emoji was first used on this message. */
  reactions: Reaction[]
  /** In the order given when posted. */
  attachments: AttachmentRecord[]
}

/**
 * What the delivery pump and resume read, in event-id order. `at`: when the event was written
 * (epoch ms). A `message-updated` event is an edit or a change of reactions.
 */
export type StoredEvent =
  /** id === message.id; the message as it is now. */
  | { kind: 'message'; id: number; at: number; message: MessageRecord }
  /** The message as it is now. */
  | { kind: 'message-updated'; id: number; at: number; message: MessageRecord }
  | { kind: 'message-deleted'; id: number; at: number; roomId: number; messageId: number }

/** A signed-in session (login, registration, reset) or an access token (scripts, bots). */
export type SessionKind = 'session' | 'token'

export interface SessionRecord {
  id: number
  user: UserRecord
  kind: SessionKind
  /** Null: never (an access token made without expiry). */
  expiresAt: number | null
  lastUsedAt: number | null
}

/** An access token as its owner lists it (never the token itself). */
export interface TokenRecord {
  id: number
  name: string
  createdAt: number
  expiresAt: number | null
  lastUsedAt: number | null
}

export interface InviteRecord {
  token: string
  createdAt: number
  expiresAt: number
  /** Null: unlimited. */
  maxUses: number | null
  uses: number
}

/**
 * A row of the revocation log: a session of userId ended (sessionId), or the account changed
 * (sessionId null: its role, name or status; cached copies must be read again).
 */
export interface Revocation {
  id: number
  userId: number
  sessionId: number | null
}

/** createUser's invite is unknown, expired or used up (checked and counted inside the write). */
export class InviteUnusableError extends Error {}

/** Why an account change was refused: no such user, or it would leave no active admin. */
export type AccountRefusal = 'missing' | 'last-admin'

/** A room as its participant sees it in the room list. */
export interface RoomSummary extends RoomRecord {
  lastMessage: MessageRecord | null
  unreadCount: number
  /** Unread (id > read marker) messages mentioning the user. */
  mentionCount: number
  /** Stored per membership; default 'all' direct, 'mentions' group; 'none' for a non-participant. */
  notificationLevel: NotificationLevel
}

export interface HistoryQuery {
  roomId: number
  /** Messages older than this id (scrolling back). */
  beforeId?: number
  /** Messages newer than this id (catching up). */
  afterId?: number
  limit: number
}

/**
 * A pending outgoing call of the delivery queue (src/delivery): a webhook call to one bot, or a
 * push to one subscription, for one message. Rows are written with the message, by the store.
 */
export interface OutgoingCall {
  id: number
  kind: 'webhook' | 'push'
  /** webhook: the bot's user id; push: the subscription's id. */
  targetId: number
  messageId: number
  roomId: number
  createdAt: number
  /** Tries started, this one included; an outcome must name it (a stale try is ignored). */
  attempts: number
}

/** A bot's last webhook try: `status` null when no answer came (then `error` says why). */
export interface WebhookDeliveryRecord {
  at: number
  ok: boolean
  status: number | null
  error: string | null
}

/** A bot as the admin's list shows it. */
export interface BotRecord {
  user: UserRecord
  webhookUrl: string | null
  lastDelivery: WebhookDeliveryRecord | null
  /** Its webhook calls waiting in the queue. */
  pending: number
}

export interface PushSubscriptionRecord {
  id: number
  userId: number
  endpoint: string
  p256dh: string
  auth: string
}

export interface Store {
  // users
  /**
   * Null when the username is taken. The first account of a database is an admin whatever
   * `role` asks (default member), decided inside the insert. With `inviteToken`, one use of
   * that live invite is taken in the same transaction (else InviteUnusableError): two
   * registrations racing for its last use cannot both get in.
   */
  createUser(input: { username: string; displayName: string; passwordHash: string; now: number; role?: 'admin' | 'member'; inviteToken?: string }): Promise<UserRecord | null>
  /** A bot user and its access token (and its webhook's signing secret), together; null when the username is taken. */
  createBot(input: { username: string; displayName: string; webhookUrl: string | null; webhookSecret?: string | null; tokenHash: Uint8Array; now: number }): Promise<UserRecord | null>
  /** Bots and deactivated users included: the caller decides what they may do. */
  findCredentials(username: string): Promise<{ user: UserRecord; passwordHash: string } | null>
  getUser(id: number): Promise<UserRecord | null>
  findUserByUsername(username: string): Promise<UserRecord | null>
  /** Active users whose username or display name starts with `prefix` (case-insensitive), by username. */
  searchUsers(prefix: string, limit: number): Promise<UserRecord[]>
  /** Every user (deactivated ones too) by id, after afterId, optionally by the same prefix rule. */
  listUsers(query: { prefix: string; afterId: number; limit: number }): Promise<UserRecord[]>
  updateDisplayName(userId: number, displayName: string, now: number): Promise<UserRecord | null>
  /**
   * Sets an admin's or member's role (a bot's stays: 'missing'). Demoting the last active admin
   * is refused inside the write, so two admins demoting each other cannot both succeed.
   */
  setRole(userId: number, role: 'admin' | 'member', now: number): Promise<UserRecord | AccountRefusal>
  /**
   * Deactivates (ending every session, token and reset link of the user, logged as revocations)
   * or reactivates. Deactivating the last active admin is refused inside the write.
   */
  setDeactivated(userId: number, deactivated: boolean, now: number): Promise<{ user: UserRecord; endedSessionIds: number[] } | AccountRefusal>
  /** New password hash; ends the user's signed-in sessions but `keepSessionId` (tokens stay). */
  setPassword(userId: number, passwordHash: string, keepSessionId: number | null, now: number): Promise<number[]>
  /** Which of these ids are users that are not deactivated. */
  activeUserIds(ids: number[]): Promise<Set<number>>

  // sessions and access tokens
  createSession(input: { userId: number; tokenHash: Uint8Array; now: number; expiresAt: number | null; kind?: SessionKind; name?: string }): Promise<number>
  /** The session with this token hash, if it has not expired and its user is active. */
  findSession(tokenHash: Uint8Array, now: number): Promise<SessionRecord | null>
  extendSession(sessionId: number, expiresAt: number): Promise<void>
  /** Records an access token's use. */
  touchSession(sessionId: number, now: number): Promise<void>
  /** Ends it (logged as a revocation); false when there was none. */
  deleteSession(sessionId: number, now: number): Promise<boolean>
  /** Whether the session still exists, has not expired, and its user is active. */
  sessionAlive(sessionId: number, now: number): Promise<boolean>
  /** A user's live access tokens, newest first. */
  listTokens(userId: number, now: number, limit: number): Promise<TokenRecord[]>
  /** Ends userId's access token (logged as a revocation); false when they have no such token. */
  deleteToken(userId: number, tokenId: number, now: number): Promise<boolean>

  // password resets and invites
  /** Stores a one-time reset link; the user's earlier links stop working. */
  createPasswordReset(input: { userId: number; tokenHash: Uint8Array; now: number; expiresAt: number }): Promise<void>
  /** Whether a reset link is there to take (a read: resetPassword still decides). */
  passwordResetLive(tokenHash: Uint8Array, now: number): Promise<boolean>
  /**
   * Takes a live reset link (once: it is deleted) of an active, non-bot user, sets the new
   * password, ends every signed-in session of theirs and opens a new one, in one transaction.
   * Null: unknown, used or expired.
   */
  resetPassword(input: { tokenHash: Uint8Array; passwordHash: string; session: { tokenHash: Uint8Array; expiresAt: number }; now: number }): Promise<{ user: UserRecord; sessionId: number; endedSessionIds: number[] } | null>
  createInvite(input: { token: string; createdBy: number | null; now: number; expiresAt: number; maxUses: number | null }): Promise<InviteRecord>
  /** An invite that is neither expired nor used up. */
  findLiveInvite(token: string, now: number): Promise<InviteRecord | null>
  /** Live invites, newest first. */
  liveInvites(now: number, limit: number): Promise<InviteRecord[]>
  deleteInvite(token: string): Promise<boolean>

  // revocation log
  /** Revocations with id > afterId, ascending: what another process ended or changed. */
  revocationsAfter(afterId: number, limit: number): Promise<Revocation[]>
  /** The newest revocation id (0 when none). */
  lastRevocationId(): Promise<number>

  // rooms
  createRoom(input: { name: string; visibility: Visibility; ownerId: number; participantIds: number[]; now: number }): Promise<RoomRecord>
  /**
   * The one direct room of two users, created if missing (exactly one per pair, under any
   * concurrency). Either of them who had left is added back, with a JOIN message (`rejoined`).
   */
  ensureDirectRoom(userA: number, userB: number, name: string, now: number): Promise<{ room: RoomRecord; created: boolean; rejoined: MessageRecord[] }>
  /** The room and whether userId is in it, in one read (the access check of every room route). */
  getRoomFor(roomId: number, userId: number): Promise<(RoomRecord & { member: boolean }) | null>
  /** Participants of each room, ordered by user id. */
  participantsOf(roomIds: number[]): Promise<Map<number, UserRecord[]>>
  /** Ids of the rooms a user is in. */
  roomIdsOf(userId: number): Promise<number[]>
  /** The user's rooms with their last message and unread count, most recent activity first. */
  roomSummaries(userId: number): Promise<RoomSummary[]>
  /** One room as `userId` sees it in the list (works for non-participants of public rooms). */
  roomSummary(roomId: number, userId: number): Promise<RoomSummary | null>
  /** Public rooms the user is not in, newest first. */
  publicRoomsNotJoined(userId: number, limit: number): Promise<RoomRecord[]>
  /** Deletes the room with its messages and memberships. */
  deleteRoom(roomId: number): Promise<void>
  /** Adds the user and writes their JOIN message; null when already a participant or the room is gone. */
  addParticipant(roomId: number, userId: number, now: number): Promise<MessageRecord | null>
  /** Writes the user's LEAVE message and removes them; null when not a participant. */
  removeParticipant(roomId: number, userId: number, now: number): Promise<MessageRecord | null>

  // messages
  /**
   * Stores a MESSAGE of a participant (else NotParticipantError). With a clientMessageId
   * already used by this sender in this room, stores nothing and returns the first message
   * with created=false.
   */
  postMessage(input: {
    roomId: number
    senderId: number
    content: string
    clientMessageId: string | null
    replyToId: number | null
    mentions: number[]
    /** Uploads of the sender in this room, not yet attached (else UnattachableFilesError); [] for none. */
    attachmentIds?: number[]
    now: number
  }): Promise<{ message: MessageRecord; created: boolean }>
  /** A message of that room, not deleted. */
  getMessage(roomId: number, messageId: number): Promise<MessageRecord | null>
  /** Replaces content and mentions, sets editedAt, writes a message-updated event. Null: no such (undeleted) message in the room. */
  editMessage(input: { roomId: number; messageId: number; content: string; mentions: number[]; now: number }): Promise<{ message: MessageRecord; eventId: number } | null>
  /** Deletes it (reactions and mentions with it) and writes a message-deleted event. Null: no such message. */
  deleteMessage(roomId: number, messageId: number, now: number): Promise<{ eventId: number } | null>
  /** Adds (on) or removes a reaction; writes a message-updated event only when it changed something (eventId null: nothing changed). Null: no such message. */
  setReaction(input: { roomId: number; messageId: number; userId: number; emoji: string; on: boolean; now: number }): Promise<{ message: MessageRecord; eventId: number | null } | null>
  /** Messages mentioning userId in rooms they are in now, newest `limit` older than beforeId, ascending. */
  mentionsOf(userId: number, query: { beforeId?: number; limit: number }): Promise<MessageRecord[]>
  /** False when not a participant. */
  setNotificationLevel(roomId: number, userId: number, level: NotificationLevel): Promise<boolean>
  /** Usernames of a room's participants (for mention parsing), lowercase -> id. */
  participantUsernames(roomId: number): Promise<Map<string, number>>
  /** The message this sender already stored in this room under clientMessageId, if any. */
  findClientMessage(senderId: number, roomId: number, clientMessageId: string): Promise<MessageRecord | null>
  history(query: HistoryQuery): Promise<MessageRecord[]>
  /** Events of any room with id > afterId, ascending: what a delivery pump has not seen yet. */
  eventsAfter(afterId: number, limit: number): Promise<StoredEvent[]>
  /** Events with id > afterId in the rooms `userId` is in now, ascending (user stream resume). */
  userEventsAfter(userId: number, afterId: number, limit: number): Promise<StoredEvent[]>
  /** Events of one room with id > afterId, ascending (room stream resume, a room gained live). */
  roomEventsAfter(roomId: number, afterId: number, limit: number): Promise<StoredEvent[]>
  /** The newest event id on the server (0 when none). */
  maxEventId(): Promise<number>
  /** Moves the read marker forward (never back); false when not a participant. */
  markRead(roomId: number, userId: number, messageId: number): Promise<boolean>

  // files
  /**
   * Records an upload whose bytes are already on disk under storageKey; null when the uploader
   * is no longer a participant of the room (it was deleted or left while the body streamed).
   */
  createFile(input: Omit<FileRecord, 'id' | 'messageId'>): Promise<FileRecord | null>
  getFile(id: number): Promise<FileRecord | null>
  /** Deletes the uploads created before `before` that no message took; how many went. */
  deleteUnattachedFiles(before: number): Promise<number>
  /**
   * Storage keys of deleted files (with their message, their room, or swept) whose disk copies
   * are still to be removed, oldest first; `fileRemoved` forgets them once they are gone.
   */
  pendingFileRemovals(limit: number): Promise<string[]>
  fileRemoved(storageKeys: string[]): Promise<void>
  /** Which of these storage keys belong to a file row (a disk file without one is a leftover). */
  knownStorageKeys(storageKeys: string[]): Promise<Set<string>>

  // search
  /**
   * MESSAGE rows matching every word of `text` (each word the start of a word of the message,
   * case and Latin accents ignored), in the rooms userId is in now, or in roomId alone (its
   * access checked by the caller); newest first, older than beforeId. Deleted messages never
   * match; an edited one matches its current content. Words of text are never query syntax.
   */
  searchMessages(query: { userId: number; roomId?: number; text: string; beforeId?: number; limit: number }): Promise<MessageRecord[]>
  /**
   * Indexes up to `batch` messages an upgrade left unindexed, newest first, in one short write.
   * done: none are left (a new database never has any). Until then older messages do not match.
   */
  indexSearchBacklog(batch: number): Promise<{ indexed: number; done: boolean }>

  // outgoing calls (the delivery queue) and push subscriptions
  /**
   * Takes up to `limit` due calls for this worker until `leaseUntil`, oldest due first, at most
   * `perTarget` per target (`<kind>:<targetId>`) counting the `inFlight` ones it already runs.
   * A taken call is nobody else's until its lease runs out, on any instance.
   */
  claimOutgoing(input: { now: number; leaseUntil: number; limit: number; perTarget: number; inFlight: ReadonlyMap<string, number> }): Promise<OutgoingCall[]>
  /** Removes the call (sent, or given up), unless a later try took it over. */
  finishOutgoing(id: number, attempts: number): Promise<void>
  /** Puts the call back, to be taken again at dueAt, unless a later try took it over. */
  retryOutgoing(id: number, attempts: number, dueAt: number): Promise<void>
  /** How many calls wait (taken or not) and when the oldest was made (null: none). */
  outgoingBacklog(): Promise<{ pending: number; oldestAt: number | null }>
  /** Records the outcome of a bot's latest webhook try (one row per bot, replaced). */
  recordWebhookDelivery(botId: number, delivery: WebhookDeliveryRecord): Promise<void>
  /** Every bot (deactivated ones too) by id, after afterId, with its webhook and its last try. */
  listBots(afterId: number, limit: number): Promise<BotRecord[]>
  /** A bot's webhook: null when it has none or is not an active bot. */
  webhookOf(botId: number): Promise<{ url: string; secret: string } | null>
  /** The stored value of a server-wide key, or `value` stored now when there is none yet (the first writer wins). */
  serverKey(name: string, value: string): Promise<string>
  /** Saves a subscription for userId (an endpoint someone else had moves to userId). */
  savePushSubscription(input: { userId: number; endpoint: string; p256dh: string; auth: string; now: number }): Promise<void>
  /** Removes userId's subscription with that endpoint; false when they have none. */
  deletePushSubscription(userId: number, endpoint: string): Promise<boolean>
  getPushSubscription(id: number): Promise<PushSubscriptionRecord | null>
  /** The push service said it is gone (404/410). */
  removePushSubscription(id: number): Promise<void>

  /** Whether the database answers. */
  ping(): Promise<boolean>
  close(): Promise<void>
}
