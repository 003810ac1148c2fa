import type { Message, Room, User } from './types.ts'

const time = new Intl.DateTimeFormat(undefined, { hour: 'numeric', minute: '2-digit' })
const dayAndTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' })
const day = new Intl.DateTimeFormat(undefined, { weekday: 'long', month: 'long', day: 'numeric' })
const shortDay = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric' })

export const formatTime = (iso: string): string => time.format(new Date(iso))
export const formatFull = (iso: string): string => dayAndTime.format(new Date(iso))

/** "Today", "Yesterday" or a date: the separator above a new day's messages. */
export function formatDay(iso: string): string {
  const date = new Date(iso)
  const today = new Date()
  const yesterday = new Date(today)
  yesterday.setDate(today.getDate() - 1)
  if (sameDay(date, today)) return 'Today'
  if (sameDay(date, yesterday)) return 'Yesterday'
  return day.format(date)
}

/** The sidebar's compact stamp: a time today, a date before. */
export function formatStamp(iso: string): string {
  const date = new Date(iso)
  return sameDay(date, new Date()) ? time.format(date) : shortDay.format(date)
}

export function sameDay(a: Date, b: Date): boolean {
  return a.getFullYear() === b.getFullYear() && a.getMonth() === b.getMonth() && a.getDate() === b.getDate()
}

/** A direct room is named after the other person; a group room by its name. */
export function roomTitle(room: Room, meId: number): string {
  if (room.type !== 'direct') return room.name
  const other = directPeer(room, meId)
  return other ? other.displayName : room.name
}

export function directPeer(room: Room, meId: number): User | undefined {
  return room.participants.find((user) => user.id !== meId)
}

export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean)
  const letters = words.length > 1 ? [words[0]!, words[words.length - 1]!] : words
  return letters.map((word) => [...word][0]!.toUpperCase()).join('').slice(0, 2) || '?'
}

/** One of eight palette classes, stable per id, so a person keeps their colour everywhere. */
export function avatarTone(id: number): string {
  return `tone-${id % 8}`
}

/** How a message reads in the sidebar preview and in system lines. */
export function describeMessage(message: Message, senderName: string): string {
  if (message.messageType === 'JOIN') return `${senderName} joined`
  if (message.messageType === 'LEAVE') return `${senderName} left`
  if (message.content === '' && message.attachments.length) {
    const [first] = message.attachments
    return message.attachments.length === 1 ? `📎 ${first!.name}` : `📎 ${message.attachments.length} files`
  }
  return message.content
}

/** A file's size as people read it: `820 B`, `14.2 KB`, `3.5 MB` (powers of 1024); `digits` after the point at most. */
export function formatBytes(size: number, digits = 1): string {
  const bytes = new Intl.NumberFormat(undefined, { maximumFractionDigits: digits })
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let value = size
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit += 1
  }
  return `${unit === 0 ? value : bytes.format(value)} ${units[unit]}`
}
