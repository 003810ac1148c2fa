/** What the service worker (sw.ts) posts to an open tab: open this room (a notification was clicked). */
export const OPEN_ROOM = 'open-room'

export interface OpenRoomMessage {
  type: typeof OPEN_ROOM
  roomId: number | undefined
}
