/** The shapes of the HTTP API (see API.md), as the client reads them. */

export interface User {
  id: number
  username: string
  displayName: string
  createdAt: string
  online: boolean
}

export type MessageType = 'MESSAGE' | 'JOIN' | 'LEAVE'

export interface Message {
  id: number
  roomId: number
  senderId: number
  content: string
  messageType: MessageType
  createdAt: string
  clientMessageId: string | null
}

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
