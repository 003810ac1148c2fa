import { t } from 'elysia'
import type { RoomSummary, UserRecord } from '../../store/store'
import { Id, iso, Timestamp } from '../common/model'
import { Message, toMessage } from '../messages/model'
import { toUser, User } from '../users/model'

export const ROOM_NAME_MAX_CHARS = 100

export const NotificationLevel = t.Union([t.Literal('all'), t.Literal('mentions'), t.Literal('none')], {
  description: "the caller's choice for this room: default `all` for direct rooms, `mentions` for group rooms; `none` for a caller who is not a participant",
})

export const Room = t.Object({
  id: t.Integer({ examples: [1] }),
  name: t.String({ examples: ['general'] }),
  type: t.Union([t.Literal('group'), t.Literal('direct')]),
  visibility: t.Union([t.Literal('public'), t.Literal('private')]),
  ownerId: t.Integer(),
  createdAt: Timestamp,
  participants: t.Array(User),
  lastMessage: t.Union([Message, t.Null()]),
  unreadCount: t.Integer({ description: 'messages by other users newer than the caller\'s read marker' }),
  mentionCount: t.Integer({ description: 'unread messages (newer than the read marker) that mention the caller' }),
  notificationLevel: NotificationLevel,
})
export type Room = typeof Room.static

export const CreateRoomBody = t.Object({
  name: t.String({ minLength: 1, description: '1-100 characters, not blank', examples: ['general'] }),
  participantIds: t.Optional(t.Array(Id, { maxItems: 1000, description: 'users to add besides the caller' })),
  visibility: t.Optional(t.Union([t.Literal('public'), t.Literal('private')], { default: 'private' })),
})

export const RoomParams = t.Object({ roomId: Id })
export const UserParams = t.Object({ userId: Id })
export const AddParticipantBody = t.Object({ userId: Id })
export const NotificationsBody = t.Object({ level: NotificationLevel })
export const RoomListQuery = t.Object({
  userId: t.Optional({ ...Id, description: 'accepted for compatibility; must be the caller' }),
})

export const toRoom = (room: RoomSummary, participants: UserRecord[], online: ReadonlySet<number>): Room => ({
  id: room.id,
  name: room.name,
  type: room.type,
  visibility: room.visibility,
  ownerId: room.ownerId,
  createdAt: iso(room.createdAt),
  participants: participants.map((u) => toUser(u, online)),
  lastMessage: room.lastMessage ? toMessage(room.lastMessage) : null,
  unreadCount: room.unreadCount,
  mentionCount: room.mentionCount,
  notificationLevel: room.notificationLevel,
})
