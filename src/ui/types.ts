/** The shapes of the HTTP API (see API.md), as the client reads them. */

export interface User {
  id: number
  username: string
  displayName: string
  createdAt: string
  online: boolean
  role?: 'admin' | 'member' | 'bot'
}

export type MessageType = 'MESSAGE' | 'JOIN' | 'LEAVE'

export interface Reaction {
  emoji: string
  count: number
  /** Ascending. */
  userIds: number[]
}

export interface Message {
  id: number
  roomId: number
  senderId: number
  content: string
  messageType: MessageType
  createdAt: string
  clientMessageId: string | null
  editedAt: string | null
  replyToId: number | null
  /** Ids of the room's participants named as `@username`, ascending. */
  mentions: number[]
  /** In the order each emoji was first used. */
  reactions: Reaction[]
}

export type NotificationLevel = 'all' | 'mentions' | 'none'

export interface Room {
  id: number
  name: string
  type: 'group' | 'direct'
  visibility: 'public' | 'private'
  ownerId: number
  createdAt: string
  participants: User[]
  lastMessage: Message | null
  unreadCount: number
  /** Unread messages that mention the caller. */
  mentionCount: number
  notificationLevel: NotificationLevel
}

export interface TypingEvent {
  roomId: number
  userId: number
}

export interface ReadEvent {
  roomId: number
  userId: number
  messageId: number
}

export interface RoomChangeEvent {
  roomId: number
}

export interface MessageDeletedEvent {
  roomId: number
  messageId: number
}
