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

/** A file: an upload, and once posted one of its message's attachments. */
export interface Attachment {
  id: number
  name: string
  contentType: string
  /** Bytes. */
  size: number
  /** `/api/chat/attachments/{id}/{name}`: the cookie is enough to fetch it. */
  url: string
  /** Pixels, for PNG, JPEG, GIF and WebP images; else null. */
  width: number | null
  height: number | null
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
  /** In the order given when it was posted. */
  attachments: Attachment[]
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
