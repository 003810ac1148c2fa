import { roomTopic, userTopic, type Bus, type Presence } from '../../bus/bus'
import { badRequest, forbidden, notFound } from '../../errors'
import type { MessageRecord, NotificationLevel, RoomRecord, RoomSummary, Store } from '../../store/store'
import { checkText } from '../common/text'
import { toRoom, type Room, ROOM_NAME_MAX_CHARS } from './model'

const PUBLIC_LIST_LIMIT = 200

/**
 * Rooms and who may do what in them. Visibility rule: a private room is invisible (404) to
 * everyone outside it, exactly like a room that does not exist; a public room is readable by
 * all, writable by its participants.
 */
export function createRoomService({
  store,
  bus,
  presence,
  releaseFiles = () => {},
  now = Date.now,
}: {
  store: Store
  bus: Bus
  presence: Presence
  /** Removes from disk the files of what was just deleted (files/sweep.ts). */
  releaseFiles?: () => void
  now?: () => number
}) {
  /** The room if `userId` may read it; 404 otherwise. */
  async function readable(roomId: number, userId: number): Promise<RoomRecord & { member: boolean }> {
    const room = await store.getRoomFor(roomId, userId)
    if (!room || (!room.member && room.visibility === 'private')) throw notFound('room')
    return room
  }

  /** The room if `userId` is in it; 404 for an invisible room, 403 for a public one. */
  async function participating(roomId: number, userId: number): Promise<RoomRecord> {
    const room = await readable(roomId, userId)
    if (!room.member) throw forbidden('only participants can do this; join the room first')
    return room
  }

  /**
   * A user who can be brought into a conversation. A deactivated one counts as unknown: the
   * people picker leaves them out, they could never read the room, and reactivating them
   * restores their existing rooms, which is all they had.
   */
  async function available(userId: number) {
    const user = await store.getUser(userId)
    if (!user || user.deactivatedAt !== null) throw notFound('user')
    return user
  }

  async function present(summaries: RoomSummary[]): Promise<Room[]> {
    const participants = await store.participantsOf(summaries.map((s) => s.id))
    const everyone = [...new Set([...participants.values()].flat().map((u) => u.id))]
    const online = await presence.online(everyone)
    return summaries.map((s) => toRoom(s, participants.get(s.id) ?? [], online))
  }

  async function roomFor(roomId: number, userId: number): Promise<Room> {
    const summary = await store.roomSummary(roomId, userId)
    if (!summary) throw notFound('room')
    return (await present([summary]))[0]!
  }

  /** Tells streams about a membership change: the user's own streams, then the room's. */
  function announceMembership(roomId: number, userId: number, change: 'room-created' | 'room-left', message: MessageRecord | null) {
    bus.publish(userTopic(userId), { type: change, roomId, userId, sinceId: message ? message.id - 1 : undefined })
    bus.publish(roomTopic(roomId), { type: 'room-updated', roomId, userId })
    if (message) bus.publish(roomTopic(roomId), { type: 'message', roomId, messageId: message.id })
  }

  async function joinPublic(roomId: number, userId: number): Promise<number | null> {
    const room = await readable(roomId, userId)
    if (room.member) return null
    const message = await store.addParticipant(roomId, userId, now())
    if (message) announceMembership(roomId, userId, 'room-created', message)
    return message?.id ?? null
  }

  return {
    readable,
    participating,

    async list(userId: number): Promise<Room[]> {
      return present(await store.roomSummaries(userId))
    },

    async publicRooms(userId: number): Promise<Room[]> {
      const rooms = await store.publicRoomsNotJoined(userId, PUBLIC_LIST_LIMIT)
      return present(rooms.map((r) => ({ ...r, lastMessage: null, unreadCount: 0, mentionCount: 0, notificationLevel: 'none' as const })))
    },

    async get(roomId: number, userId: number): Promise<Room> {
      await readable(roomId, userId)
      return roomFor(roomId, userId)
    },

    async create(userId: number, input: { name: string; participantIds?: number[]; visibility?: 'public' | 'private' }): Promise<Room> {
      const name = input.name.trim()
      const problem = checkText('name', name, ROOM_NAME_MAX_CHARS)
      if (problem) throw badRequest(problem)
      const others = [...new Set(input.participantIds ?? [])].filter((id) => id !== userId)
      const active = await store.activeUserIds(others)
      const unknown = others.filter((id) => !active.has(id))
      if (unknown.length) throw badRequest(`participantIds: unknown or deactivated user ${unknown.join(', ')}`)

      const room = await store.createRoom({ name, visibility: input.visibility ?? 'private', ownerId: userId, participantIds: others, now: now() })
      for (const id of [userId, ...others]) bus.publish(userTopic(id), { type: 'room-created', roomId: room.id, userId: id, sinceId: 0 })
      return roomFor(room.id, userId)
    },

    async remove(roomId: number, userId: number): Promise<void> {
      const room = await readable(roomId, userId)
      const allowed = room.type === 'direct' ? room.member : room.ownerId === userId
      if (!allowed) throw forbidden(room.type === 'direct' ? 'only its participants can delete a direct room' : 'only the owner can delete this room')
      await store.deleteRoom(roomId)
      bus.publish(roomTopic(roomId), { type: 'room-deleted', roomId, userId })
      releaseFiles()
    },

    async join(roomId: number, userId: number): Promise<Room> {
      await joinPublic(roomId, userId)
      return roomFor(roomId, userId)
    },

    /** Joins a public room if the user is not in it yet; the JOIN message's id when written. */
    joinPublic,

    async leave(roomId: number, userId: number): Promise<void> {
      await participating(roomId, userId)
      const message = await store.removeParticipant(roomId, userId, now())
      if (message) announceMembership(roomId, userId, 'room-left', message)
    },

    async addParticipant(roomId: number, actorId: number, newUserId: number): Promise<Room> {
      const room = await participating(roomId, actorId)
      if (room.type === 'direct') throw badRequest('roomId: a direct room has exactly its two participants')
      if (room.ownerId !== actorId) throw forbidden('only the owner can add participants')
      await available(newUserId)
      const message = await store.addParticipant(roomId, newUserId, now())
      if (message) announceMembership(roomId, newUserId, 'room-created', message)
      return roomFor(roomId, actorId)
    },

    /** The caller's notification level for a room they are in. */
    async setNotificationLevel(roomId: number, userId: number, level: NotificationLevel): Promise<void> {
      await participating(roomId, userId)
      if (!(await store.setNotificationLevel(roomId, userId, level))) throw forbidden('only participants can do this; join the room first')
    },

    async ensureDirect(userId: number, otherId: number): Promise<{ room: Room; created: boolean }> {
      if (otherId === userId) throw badRequest('userId: a direct room needs another user')
      const [me, other] = await Promise.all([store.getUser(userId), available(otherId)])
      if (!me) throw notFound('user')
      const { room, created, rejoined } = await store.ensureDirectRoom(userId, otherId, `${me.username}, ${other.username}`.slice(0, 100), now())
      if (created) for (const id of [userId, otherId]) bus.publish(userTopic(id), { type: 'room-created', roomId: room.id, userId: id, sinceId: 0 })
      for (const join of rejoined) announceMembership(room.id, join.senderId, 'room-created', join)
      return { room: await roomFor(room.id, userId), created }
    },
  }
}

export type RoomService = ReturnType<typeof createRoomService>
