import type { SQL } from 'bun'
import type { NotificationLevel, RoomRecord, RoomSummary, UserRecord } from '../store'
import { toUser, userColumns } from './accounts-rows'
import { bounded, num, sqlState, type Database } from './database'
import { assertStorable, MESSAGE_COLUMNS, ROOM_COLUMNS, roomColumns, toRecord, toRoom, type Row } from './message-rows'
import type { MessageWriter } from './messages'
import { lockRoom } from './messages-sequence'
import type { RoomStore } from '../parts'
import { createGroupCommit, type Outcome } from '../group-commit'

type RoomFor = RoomRecord & { member: boolean }

/**
 * A room as one user sees it in the list, in one statement (one snapshot): counts from the
 * (room, id) ranges above the read marker, which deleted messages are no longer in, and the
 * last message as a JSON object. For a non-participant (p is NULL: a public room read from
 * outside) nothing is unread and the level is 'none'.
 */
const summaryOf = (sql: SQL, from: SQL.Query<unknown>) => sql`
  SELECT ${sql.unsafe(ROOM_COLUMNS)},
    (SELECT count(*) FROM messages m WHERE m.room_id = r.id AND m.id > p.last_read_id AND m.sender_id != p.user_id) AS "unreadCount",
    (SELECT count(*) FROM mentions x WHERE x.user_id = p.user_id AND x.room_id = r.id AND x.message_id > p.last_read_id) AS "mentionCount",
    CASE WHEN p.user_id IS NULL THEN 'none'
      ELSE coalesce(p.notification_level, CASE r.type WHEN 'direct' THEN 'all' ELSE 'mentions' END) END AS "notificationLevel",
    (SELECT to_jsonb(last) FROM (SELECT ${sql.unsafe(MESSAGE_COLUMNS)} FROM messages m WHERE m.room_id = r.id ORDER BY m.id DESC LIMIT 1) last)
      AS "lastMessage"
  ${from}`

const toSummary = (row: Row): RoomSummary => ({
  ...toRoom(row),
  lastMessage: row.lastMessage ? toRecord(row.lastMessage as Row) : null,
  unreadCount: num(row.unreadCount),
  mentionCount: num(row.mentionCount),
  notificationLevel: row.notificationLevel as NotificationLevel,
})

/** The room list's order: most recent activity first. */
const activity = (s: RoomSummary) => s.lastMessage?.createdAt ?? s.createdAt

export function createRoomStore(db: Database, messages: MessageWriter): RoomStore {
  // The access check of every room route, asked by every request: the checks asked during one
  // turn of the event loop are read by one query (a burst of posts pays one round trip and one
  // wake of a backend, not one each), through the group commit's batching of calls.
  const roomsFor = createGroupCommit(async (keys: { roomId: number; userId: number }[]): Promise<Outcome<RoomFor | null>[]> => {
    const rows: Row[] = await db.run(
      (sql) => sql`
        SELECT k.ord, ${roomColumns(sql)}, EXISTS (SELECT 1 FROM participants p WHERE p.room_id = r.id AND p.user_id = k.user_id) AS member
        FROM unnest(${keys.map((k) => k.roomId)}::int8[], ${keys.map((k) => k.userId)}::int8[]) WITH ORDINALITY AS k (room_id, user_id, ord)
        JOIN rooms r ON r.id = k.room_id`,
    )
    const found = new Map(rows.map((row) => [num(row.ord) - 1, row]))
    return keys.map((_, i) => {
      const row = found.get(i)
      return { ok: row ? { ...toRoom(row), member: row.member === true } : null }
    })
  })
  const displayName = (sql: SQL, userId: number) => sql`(SELECT display_name FROM users WHERE id = ${userId}::int8)`

  /**
   * Adds a participant with a JOIN message, inside the caller's transaction; null if already
   * in or the room is gone. The insert's foreign key check holds the room (FOR KEY SHARE)
   * before the message takes its number, and a room being deleted makes it wait and fail.
   * Only what comes after joining counts as unread for the newcomer.
   */
  const join = async (tx: SQL, roomId: number, userId: number, now: number) => {
    const [added] = await tx`
      INSERT INTO participants (room_id, user_id, joined_at, last_read_id)
      SELECT ${roomId}::int8, ${userId}::int8, ${now}::int8, 0 WHERE EXISTS (SELECT 1 FROM rooms WHERE id = ${roomId}::int8)
      ON CONFLICT DO NOTHING
      RETURNING ${displayName(tx, userId)} AS name`
    if (!added) return null
    const content = `${(added.name as string | null) ?? 'someone'} joined`
    return messages.write(tx, { roomId, senderId: userId, content, type: 'JOIN', now, readBySender: true })
  }
  /** A room deleted while the insert waited fails its foreign key: nothing to join. */
  const orNullIfGone = async <T>(work: Promise<T>): Promise<T | null> => {
    try {
      return await work
    } catch (error) {
      if (sqlState(error) === '23503') return null
      throw error
    }
  }

  return {
    async createRoom({ name, visibility, ownerId, participantIds, now }) {
      assertStorable(name)
      const userIds = [...new Set([ownerId, ...participantIds])]
      const [row] = await db.run(
        (sql) => sql`
          WITH r AS (
            INSERT INTO rooms (name, type, visibility, owner_id, created_at)
            VALUES (${name}::text, 'group', ${visibility}::text, ${ownerId}::int8, ${now}::int8) RETURNING *
          ),
          p AS (INSERT INTO participants (room_id, user_id, joined_at) SELECT r.id, u.id, ${now}::int8 FROM r, unnest(${userIds}::int8[]) AS u(id))
          SELECT ${roomColumns(sql)} FROM r`,
      )
      return toRoom(row)
    },

    /*
     * One room per pair under any concurrency: the unique direct_key. Of two creations racing,
     * the second's insert waits for the first to commit, then does nothing, and its next
     * statement (a new snapshot) finds the first's room.
     */
    async ensureDirectRoom(userA, userB, name, now) {
      assertStorable(name)
      const [low, high] = userA < userB ? [userA, userB] : [userB, userA]
      const key = `${low}:${high}`
      return db.tx(async (tx) => {
        const [created] = await tx`
          WITH r AS (
            INSERT INTO rooms (name, type, visibility, owner_id, created_at, direct_key)
            VALUES (${name}::text, 'direct', 'private', ${low}::int8, ${now}::int8, ${key}::text)
            ON CONFLICT (direct_key) DO NOTHING RETURNING *
          ),
          p AS (INSERT INTO participants (room_id, user_id, joined_at) SELECT r.id, u.id, ${now}::int8 FROM r, unnest(${[low, high]}::int8[]) AS u(id))
          SELECT ${roomColumns(tx)} FROM r`
        if (created) return { room: toRoom(created), created: true, rejoined: [] }
        const [existing] = await tx`SELECT ${roomColumns(tx)} FROM rooms r WHERE r.direct_key = ${key}::text FOR KEY SHARE`
        // Re-adds a participant who had left, as a join: the pair always has its one room.
        const rejoined = []
        for (const userId of [low, high]) {
          const message = await join(tx, num(existing.id), userId, now)
          if (message) rejoined.push(message)
        }
        return { room: toRoom(existing), created: false, rejoined }
      })
    },

    getRoomFor: (roomId, userId) => roomsFor({ roomId, userId }),

    async participantsOf(roomIds) {
      const result = new Map<number, UserRecord[]>(roomIds.map((id) => [id, []]))
      if (roomIds.length === 0) return result
      const rows: Row[] = await db.run(
        (sql) => sql`
          SELECT p.room_id AS "roomId", ${userColumns(sql)} FROM participants p JOIN users u ON u.id = p.user_id
          WHERE p.room_id = ANY(${roomIds}::int8[]) ORDER BY p.room_id, u.id`,
      )
      for (const row of rows) result.get(num(row.roomId))?.push(toUser(row))
      return result
    },

    async roomIdsOf(userId) {
      const rows: Row[] = await db.run((sql) => sql`SELECT room_id FROM participants WHERE user_id = ${userId}::int8`)
      return rows.map((row) => num(row.room_id))
    },

    async roomSummaries(userId) {
      const rows: Row[] = await db.run(
        (sql) => summaryOf(sql, sql`FROM participants p JOIN rooms r ON r.id = p.room_id WHERE p.user_id = ${userId}::int8`),
      )
      return rows.map(toSummary).sort((a, b) => activity(b) - activity(a) || b.id - a.id)
    },

    async roomSummary(roomId, userId) {
      const [row] = await db.run(
        (sql) => summaryOf(sql, sql`FROM rooms r LEFT JOIN participants p ON p.room_id = r.id AND p.user_id = ${userId}::int8 WHERE r.id = ${roomId}::int8`),
      )
      return row ? toSummary(row) : null
    },

    async publicRoomsNotJoined(userId, limit) {
      const rows: Row[] = await db.run(
        (sql) => sql`
          SELECT ${roomColumns(sql)} FROM rooms r WHERE r.visibility = 'public'
          AND NOT EXISTS (SELECT 1 FROM participants p WHERE p.room_id = r.id AND p.user_id = ${userId}::int8)
          ORDER BY r.id DESC LIMIT ${bounded(limit)}`,
      )
      return rows.map(toRoom)
    },

    async setNotificationLevel(roomId, userId, level) {
      const result = await db.run(
        (sql) => sql`UPDATE participants SET notification_level = ${level}::text WHERE room_id = ${roomId}::int8 AND user_id = ${userId}::int8`,
      )
      return result.count > 0
    },

    async participantUsernames(roomId) {
      const rows: Row[] = await db.run(
        (sql) => sql`SELECT u.username, u.id FROM participants p JOIN users u ON u.id = p.user_id WHERE p.room_id = ${roomId}::int8`,
      )
      return new Map(rows.map((row) => [(row.username as string).toLowerCase(), num(row.id)]))
    },

    // Its participants, messages, events, mentions, reactions, files and outgoing calls go
    // with it (foreign keys). The room row is locked first, as every writer in it locks it
    // first (FOR KEY SHARE), so a post in flight finishes before, or finds no membership after.
    async deleteRoom(roomId) {
      await db.run((sql) => sql`DELETE FROM rooms WHERE id = ${roomId}::int8`)
    },

    async addParticipant(roomId, userId, now) {
      return orNullIfGone(db.tx((tx) => join(tx, roomId, userId, now)))
    },

    /*
     * The membership is deleted first (after the room is held: the LEAVE's foreign key check),
     * which a post of this user in flight holds until it commits; an owner who leaves hands
     * the room to the earliest remaining participant in the same statement. Then the LEAVE
     * message takes its number, last.
     */
    async removeParticipant(roomId, userId, now) {
      return db.tx(async (tx) => {
        const [gone] = await tx`
          WITH r AS (${lockRoom(tx, roomId)}),
          gone AS (
            DELETE FROM participants WHERE room_id = (SELECT id FROM r) AND user_id = ${userId}::int8 RETURNING room_id
          ),
          heir AS (
            UPDATE rooms SET owner_id = h.user_id
            FROM (SELECT user_id FROM participants WHERE room_id = ${roomId}::int8 AND user_id != ${userId}::int8
                  ORDER BY joined_at, user_id LIMIT 1) h
            WHERE rooms.id = ${roomId}::int8 AND rooms.owner_id = ${userId}::int8 AND EXISTS (SELECT 1 FROM gone)
          )
          SELECT ${displayName(tx, userId)} AS name FROM gone`
        if (!gone) return null
        const content = `${(gone.name as string | null) ?? 'someone'} left`
        return messages.write(tx, { roomId, senderId: userId, content, type: 'LEAVE', now })
      })
    },
  }
}
