import type { Database } from 'bun:sqlite'
import type { RoomRecord, RoomSummary, UserRecord } from '../store'
import { bounded, retryBusy, returning, ROOM, statement, USER } from './database'
import { MESSAGE, toRecord, type MessageRow } from './message-rows'
import type { MessageWriter } from './messages'
import type { RoomStore } from '../parts'

type SummaryRow = Omit<RoomSummary, 'lastMessage'> & { lastMessageId: number | null }

/**
 * A room as one participant sees it in the list, with the id of its last message: counts come
 * from the (room, id) ranges above the read marker, which deleted messages are no longer in.
 */
const SUMMARY = `${ROOM},
  (SELECT count(*) FROM messages m WHERE m.room_id = r.id AND m.id > p.last_read_id AND m.sender_id != p.user_id) AS unreadCount,
  (SELECT count(*) FROM mentions x WHERE x.user_id = p.user_id AND x.room_id = r.id AND x.message_id > p.last_read_id) AS mentionCount,
  coalesce(p.notification_level, CASE r.type WHEN 'direct' THEN 'all' ELSE 'mentions' END) AS notificationLevel,
  (SELECT max(m.id) FROM messages m WHERE m.room_id = r.id) AS lastMessageId
  FROM participants p JOIN rooms r ON r.id = p.room_id`

export function createRoomStore(db: Database, messages: MessageWriter): RoomStore {
  const q = <T>(sql: string) => statement<T>(db, sql)
  const insertRoom = q<RoomRecord>(
    `INSERT INTO rooms (name, type, visibility, owner_id, created_at, direct_key) VALUES (?, ?, ?, ?, ?, ?)
     RETURNING id, name, type, visibility, owner_id AS ownerId, created_at AS createdAt`,
  )
  const roomById = q<RoomRecord>(`SELECT ${ROOM} FROM rooms r WHERE r.id = ?`)
  const roomFor = q<RoomRecord & { member: number }>(
    `SELECT ${ROOM}, EXISTS (SELECT 1 FROM participants p WHERE p.room_id = r.id AND p.user_id = ?2) AS member
     FROM rooms r WHERE r.id = ?1`,
  )
  const directRoom = q<RoomRecord>(`SELECT ${ROOM} FROM rooms r WHERE r.direct_key = ?`)
  const userById = q<UserRecord>(`SELECT ${USER} FROM users u WHERE u.id = ?`)
  // Nothing for a room deleted since the caller's check (rather than a foreign key error).
  const insertParticipant = q(
    `INSERT INTO participants (room_id, user_id, joined_at, last_read_id)
     SELECT ?1, ?2, ?3, ?4 WHERE EXISTS (SELECT 1 FROM rooms WHERE id = ?1) ON CONFLICT DO NOTHING`,
  )
  const isParticipant = q<{ one: number }>(`SELECT 1 AS one FROM participants WHERE room_id = ? AND user_id = ?`)
  // One query for any number of rooms: the ids travel as one JSON array parameter.
  const participantsOfRooms = q<UserRecord & { roomId: number }>(
    `SELECT p.room_id AS roomId, ${USER} FROM participants p JOIN users u ON u.id = p.user_id
     WHERE p.room_id IN (SELECT value FROM json_each(?)) ORDER BY p.room_id, u.id`,
  )
  const roomIdsOf = q<{ roomId: number }>(`SELECT room_id AS roomId FROM participants WHERE user_id = ?`)
  // The room list in two reads, whatever its length: rooms with their counts, then the last
  // messages by id.
  const roomsOfUser = q<SummaryRow>(`SELECT ${SUMMARY} WHERE p.user_id = ?`)
  const roomOfUser = q<SummaryRow>(`SELECT ${SUMMARY} WHERE p.user_id = ? AND p.room_id = ?`)
  const messagesById = q<MessageRow>(`SELECT ${MESSAGE} FROM messages m WHERE m.id IN (SELECT value FROM json_each(?))`)
  const lastMessageOf = q<MessageRow>(
    `SELECT ${MESSAGE} FROM messages m WHERE m.room_id = ? ORDER BY m.id DESC LIMIT 1`,
  )
  const setLevel = q(`UPDATE participants SET notification_level = ? WHERE room_id = ? AND user_id = ?`)
  const usernamesOf = q<{ username: string; id: number }>(
    `SELECT u.username, u.id FROM participants p JOIN users u ON u.id = p.user_id WHERE p.room_id = ?`,
  )
  const publicRooms = q<RoomRecord>(
    `SELECT ${ROOM} FROM rooms r WHERE r.visibility = 'public'
     AND NOT EXISTS (SELECT 1 FROM participants p WHERE p.room_id = r.id AND p.user_id = ?)
     ORDER BY r.id DESC LIMIT ?`,
  )
  const deleteRoom = q(`DELETE FROM rooms WHERE id = ?`)
  const deleteParticipant = q(`DELETE FROM participants WHERE room_id = ? AND user_id = ?`)
  const nextOwner = q<{ userId: number }>(
    `SELECT user_id AS userId FROM participants WHERE room_id = ? ORDER BY joined_at, user_id LIMIT 1`,
  )
  const setOwner = q(`UPDATE rooms SET owner_id = ? WHERE id = ?`)

  const withLastMessages = (rows: SummaryRow[]): RoomSummary[] => {
    const ids = rows.flatMap((r) => (r.lastMessageId === null ? [] : [r.lastMessageId]))
    const last = new Map(messagesById.all(JSON.stringify(ids)).map((m) => [m.id, toRecord(m)]))
    return rows.map(({ lastMessageId, ...room }) => ({ ...room, lastMessage: last.get(lastMessageId ?? 0) ?? null }))
  }
  const summaries = db.transaction((userId: number) => withLastMessages(roomsOfUser.all(userId)))
  const summary = db.transaction((roomId: number, userId: number): RoomSummary | null => {
    const mine = roomOfUser.get(userId, roomId)
    if (mine) return withLastMessages([mine])[0]!
    const room = roomById.get(roomId)
    if (!room) return null
    // A non-participant (reading a public room) has no marker: nothing is unread for them.
    const last = lastMessageOf.get(roomId)
    return { ...room, lastMessage: last && toRecord(last), unreadCount: 0, mentionCount: 0, notificationLevel: 'none' }
  })

  const joinedText = (userId: number) => `${userById.get(userId)?.displayName ?? 'someone'} joined`
  /** Adds a participant with a JOIN message, inside the caller's transaction; null if already in. */
  const join = (roomId: number, userId: number, content: string, now: number) => {
    const added = insertParticipant.run(roomId, userId, now, 0).changes > 0
    if (!added) return null
    const message = messages.write(roomId, userId, content, 'JOIN', now)
    // Only what comes after joining counts as unread for the newcomer.
    messages.markRead(roomId, userId, message.id)
    return message
  }
  const addParticipantTx = db.transaction(join)

  const removeParticipantTx = db.transaction((roomId: number, userId: number, content: string, now: number) => {
    if (!isParticipant.get(roomId, userId)) return null
    const leave = messages.write(roomId, userId, content, 'LEAVE', now)
    deleteParticipant.run(roomId, userId)
    const room = roomById.get(roomId)!
    if (room.ownerId === userId) {
      const heir = nextOwner.get(roomId)
      if (heir) setOwner.run(heir.userId, roomId)
    }
    return leave
  })

  return {
    async createRoom({ name, visibility, ownerId, participantIds, now }) {
      const create = db.transaction(() => {
        const room = returning(insertRoom, name, 'group', visibility, ownerId, now, null)!
        for (const userId of new Set([ownerId, ...participantIds])) insertParticipant.run(room.id, userId, now, 0)
        return room
      })
      return retryBusy(() => create.immediate())
    },
    async ensureDirectRoom(userA, userB, name, now) {
      const [low, high] = userA < userB ? [userA, userB] : [userB, userA]
      const key = `${low}:${high}`
      const ensure = db.transaction(() => {
        const existing = directRoom.get(key)
        if (!existing) {
          const room = returning(insertRoom, name, 'direct', 'private', low, now, key)!
          for (const userId of [low, high]) insertParticipant.run(room.id, userId, now, 0)
          return { room, created: true, rejoined: [] }
        }
        // Re-adds a participant who had left, as a join: the pair always has its one room.
        const rejoined = [low, high].flatMap((userId) => join(existing.id, userId, joinedText(userId), now) ?? [])
        return { room: existing, created: false, rejoined }
      })
      // IMMEDIATE: the read and the insert happen under one write lock, across processes too.
      return retryBusy(() => ensure.immediate())
    },
    async getRoomFor(roomId, userId) {
      const row = roomFor.get(roomId, userId)
      return row ? { ...row, member: row.member === 1 } : null
    },
    async participantsOf(roomIds) {
      const result = new Map<number, UserRecord[]>(roomIds.map((id) => [id, []]))
      for (const { roomId, ...user } of participantsOfRooms.all(JSON.stringify(roomIds))) result.get(roomId)?.push(user)
      return result
    },
    async roomIdsOf(userId) {
      return roomIdsOf.all(userId).map((r) => r.roomId)
    },
    async roomSummaries(userId) {
      const activity = (s: RoomSummary) => s.lastMessage?.createdAt ?? s.createdAt
      return summaries.deferred(userId).sort((a, b) => activity(b) - activity(a) || b.id - a.id)
    },
    async roomSummary(roomId, userId) {
      return summary.deferred(roomId, userId)
    },
    async publicRoomsNotJoined(userId, limit) {
      return publicRooms.all(userId, bounded(limit))
    },
    async setNotificationLevel(roomId, userId, level) {
      return (await retryBusy(() => setLevel.run(level, roomId, userId))).changes > 0
    },
    async participantUsernames(roomId) {
      return new Map(usernamesOf.all(roomId).map((u) => [u.username.toLowerCase(), u.id]))
    },
    async deleteRoom(roomId) {
      await retryBusy(() => deleteRoom.run(roomId))
    },
    async addParticipant(roomId, userId, now) {
      const content = joinedText(userId)
      return retryBusy(() => addParticipantTx.immediate(roomId, userId, content, now))
    },
    async removeParticipant(roomId, userId, now) {
      const user = userById.get(userId)
      const content = `${user?.displayName ?? 'someone'} left`
      return retryBusy(() => removeParticipantTx.immediate(roomId, userId, content, now))
    },
  }
}
