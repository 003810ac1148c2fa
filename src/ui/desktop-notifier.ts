import type { Message, Room } from './types.ts'

// A notification's text is cut here; the room holds the rest.
const MAX_BODY = 180

/**
 * Desktop notifications (the Notification API) for messages that arrive while the tab is
 * hidden. The browser asks the person once, and only when they did something that asks for it
 * (a click), as browsers require. One notification per room: a newer one replaces it.
 */
export function createDesktopNotifier(open: (roomId: number) => void) {
  const supported = typeof Notification !== 'undefined'

  return {
    /** Whether asking makes sense: supported, and neither allowed nor refused yet. */
    get askable(): boolean {
      return supported && Notification.permission === 'default'
    },

    async ask(): Promise<void> {
      if (supported && Notification.permission === 'default') await Notification.requestPermission()
    },

    /** Shows `message` if the tab is hidden, the person allowed it and wants it at their level. */
    consider(room: Room, message: Message, meId: number, title: string, sender: string): void {
      if (!supported || Notification.permission !== 'granted' || document.visibilityState !== 'hidden') return
      if (message.messageType !== 'MESSAGE' || message.senderId === meId) return
      const level = room.notificationLevel
      if (level === 'none' || (level === 'mentions' && !message.mentions.includes(meId))) return
      const text = message.content.length > MAX_BODY ? `${message.content.slice(0, MAX_BODY)}…` : message.content
      const notification = new Notification(title, {
        body: room.type === 'direct' ? text : `${sender}: ${text}`,
        tag: `room-${room.id}`,
      })
      notification.onclick = () => {
        window.focus()
        open(room.id)
        notification.close()
      }
    },
  }
}
