import { Database, type SQLQueryBindings, type Statement } from 'bun:sqlite'
import { createGroupCommit, type Outcome } from './group-commit'
import { migrate } from './migrations'
import type { MessageRecord, RoomRecord, RoomSummary, Store, UserRecord } from './store'

const USER = `u.id, u.username, u.display_name AS displayName, u.created_at AS createdAt`
const ROOM = `r.id, r.name, r.type, r.visibility, r.owner_id AS ownerId, r.created_at AS createdAt`
const MESSAGE = `m.id, m.room_id AS roomId, m.sender_id AS senderId, m.content, m.message_type AS messageType,
  m.created_at AS createdAt, m.client_message_id AS clientMessageId`

/** Opens (creating if needed) the database, applies pending migrations and tunes it. */
export function openDatabase(path: string): Database {
  const db = new Database(path, { create: true, strict: true })
  // First, so that every statement after it, the switch to WAL included, waits while another
  // instance holds a lock (instances starting together on one file) instead of failing at once.
  db.run('PRAGMA busy_timeout = 5000')
  // WAL + NORMAL: ~20x the commit rate of FULL; a process crash loses nothing, only an OS
  // crash or power loss can drop the last commits (STACK-NOTES).
  db.run('PRAGMA journal_mode = WAL')
  db.run('PRAGMA synchronous = NORMAL')
  db.run('PRAGMA foreign_keys = ON')
  // The schema version is read and brought up to date under one write lock: instances starting
  // together take turns, and each sees what the one before it applied (its steps become
  // savepoints inside this transaction).
  db.transaction(() => migrate(db)).immediate()
  return db
}

const isBusy = (error: unknown) => (error as { code?: string })?.code?.startsWith('SQLITE_BUSY') ?? false

/**
 * Runs a write, retrying while another process holds the lock past busy_timeout. Sync
 * underneath: bun:sqlite blocks, which keeps each write short and ordered in this process.
 */
async function retryBusy<T>(write: () => T): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return write()
    } catch (error) {
      if (!isBusy(error) || attempt >= 5) throw error
      await Bun.sleep(10 * attempt)
    }
  }
}

/**
 * The row of an INSERT ... RETURNING. Never `.get()` such a statement: it steps once and
 * leaves the statement open, so its autocommit transaction is not committed until the next
 * run (a crash loses the write, other processes do not see it, the WAL cannot checkpoint).
 * `.all()` steps it to the end.
 */
function returning<T>(statement: Statement<T>, ...params: SQLQueryBindings[]): T | null {
  return statement.all(...params)[0] ?? null
}

export function createSqliteStore(path: string): Store {
  const db = openDatabase(path)
  const q = <T = unknown>(sql: string): Statement<T> => db.query(sql) as Statement<T>

  const insertUser = q<UserRecord>(
    `INSERT INTO users (username, display_name, password_hash, created_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (username) DO NOTHING
     RETURNING id, username, display_name AS displayName, created_at AS createdAt`,
  )
  const credentials = q<UserRecord & { passwordHash: string }>(
    `SELECT ${USER}, u.password_hash AS passwordHash FROM users u WHERE u.username = ?`,
  )
  const userById = q<UserRecord>(`SELECT ${USER} FROM users u WHERE u.id = ?`)
  // Prefix ranges rather than LIKE, one per index: usernames are stored lower-case; display
  // names have a NOCASE index. The two answers are merged in searchUsers.
  const usersByName = q<UserRecord>(
    `SELECT ${USER} FROM users u WHERE u.username >= ?1 AND u.username < ?2 ORDER BY u.username LIMIT ?3`,
  )
  const usersByDisplayName = q<UserRecord>(
    `SELECT ${USER} FROM users u
     WHERE u.display_name >= ?1 COLLATE NOCASE AND u.display_name < ?2 COLLATE NOCASE
     ORDER BY u.display_name COLLATE NOCASE LIMIT ?3`,
  )
  const insertSession = q<{ id: number }>(
    `INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?) RETURNING id`,
  )
  const sessionByHash = q<UserRecord & { sessionId: number; expiresAt: number }>(
    `SELECT s.id AS sessionId, s.expires_at AS expiresAt, ${USER}
     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ? AND s.expires_at > ?`,
  )
  const extendSession = q(`UPDATE sessions SET expires_at = ? WHERE id = ?`)
  const deleteSession = q(`DELETE FROM sessions WHERE id = ?`)
  const sessionAlive = q<{ one: number }>(`SELECT 1 AS one FROM sessions WHERE id = ? AND expires_at > ?`)

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
  const insertParticipant = q(
    `INSERT INTO participants (room_id, user_id, joined_at, last_read_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
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
  const roomsOfUser = q<RoomRecord & { unreadCount: number; lastMessageId: number | null }>(
    `SELECT ${ROOM},
       (SELECT count(*) FROM messages m WHERE m.room_id = r.id AND m.id > p.last_read_id AND m.sender_id != p.user_id) AS unreadCount,
       (SELECT max(m.id) FROM messages m WHERE m.room_id = r.id) AS lastMessageId
     FROM participants p JOIN rooms r ON r.id = p.room_id WHERE p.user_id = ?`,
  )
  const messagesById = q<MessageRecord>(`SELECT ${MESSAGE} FROM messages m WHERE m.id IN (SELECT value FROM json_each(?))`)
  const lastMessageOf = q<MessageRecord>(
    `SELECT ${MESSAGE} FROM messages m WHERE m.room_id = ? ORDER BY m.id DESC LIMIT 1`,
  )
  const unreadCount = q<{ n: number }>(
    `SELECT count(*) AS n FROM messages WHERE room_id = ? AND id > ? AND sender_id != ?`,
  )
  const lastReadOf = q<{ lastReadId: number }>(
    `SELECT last_read_id AS lastReadId FROM participants WHERE room_id = ? AND user_id = ?`,
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

  const insertMessage = q<MessageRecord>(
    `INSERT INTO messages (room_id, sender_id, content, message_type, created_at, client_message_id)
     VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (sender_id, room_id, client_message_id) WHERE client_message_id IS NOT NULL DO NOTHING
     RETURNING id, room_id AS roomId, sender_id AS senderId, content, message_type AS messageType,
       created_at AS createdAt, client_message_id AS clientMessageId`,
  )
  const messageByClientId = q<MessageRecord>(
    `SELECT ${MESSAGE} FROM messages m WHERE m.sender_id = ? AND m.room_id = ? AND m.client_message_id = ?`,
  )
  const newest = q<MessageRecord>(`SELECT ${MESSAGE} FROM messages m WHERE m.room_id = ? ORDER BY m.id DESC LIMIT ?`)
  const before = q<MessageRecord>(
    `SELECT ${MESSAGE} FROM messages m WHERE m.room_id = ? AND m.id < ? ORDER BY m.id DESC LIMIT ?`,
  )
  const after = q<MessageRecord>(
    `SELECT ${MESSAGE} FROM messages m WHERE m.room_id = ? AND m.id > ? AND m.id < ? ORDER BY m.id LIMIT ?`,
  )
  const allAfter = q<MessageRecord>(`SELECT ${MESSAGE} FROM messages m WHERE m.id > ? ORDER BY m.id LIMIT ?`)
  const userAfter = q<MessageRecord>(
    `SELECT ${MESSAGE} FROM participants p JOIN messages m ON m.room_id = p.room_id AND m.id > ?
     WHERE p.user_id = ? ORDER BY m.id LIMIT ?`,
  )
  // AUTOINCREMENT's high-water mark survives deletes; max(id) alone would not.
  const maxId = q<{ id: number }>(
    `SELECT max(coalesce((SELECT max(id) FROM messages), 0),
                coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0)) AS id`,
  )
  const markRead = q(
    `UPDATE participants
     SET last_read_id = max(last_read_id, min(?1, (SELECT coalesce(max(id), 0) FROM messages WHERE room_id = ?2)))
     WHERE room_id = ?2 AND user_id = ?3`,
  )

  const writeMessage = (roomId: number, senderId: number, content: string, type: MessageRecord['messageType'], now: number, clientId: string | null) =>
    returning(insertMessage, roomId, senderId, content, type, now, clientId)

  const summaryOf = (room: RoomRecord, lastReadId: number, userId: number): RoomSummary => ({
    ...room,
    lastMessage: lastMessageOf.get(room.id),
    unreadCount: unreadCount.get(room.id, lastReadId, userId)!.n,
  })

  const addParticipantTx = db.transaction((roomId: number, userId: number, content: string, now: number) => {
    const added = insertParticipant.run(roomId, userId, now, 0).changes > 0
    if (!added) return null
    const join = writeMessage(roomId, userId, content, 'JOIN', now, null)!
    // Only what comes after joining counts as unread for the newcomer.
    markRead.run(join.id, roomId, userId)
    return join
  })

  const markOwnRead = q(`UPDATE participants SET last_read_id = ?1 WHERE room_id = ?2 AND user_id = ?3 AND last_read_id < ?1`)

  type PostInput = Parameters<Store['postMessage']>[0]
  const postOne = ({ roomId, senderId, content, clientMessageId, now }: PostInput) => {
    const message = writeMessage(roomId, senderId, content, 'MESSAGE', now, clientMessageId)
    if (!message) return { message: messageByClientId.get(senderId, roomId, clientMessageId)!, created: false }
    // Whoever writes has read the room up to there: their unread count starts after it.
    markOwnRead.run(message.id, roomId, senderId)
    return { message, created: true }
  }
  const postBatchTx = db.transaction((inputs: PostInput[]) =>
    inputs.map((input): Outcome<{ message: MessageRecord; created: boolean }> => {
      // A failing statement is rolled back alone; the rest of the batch goes on.
      try {
        return { ok: postOne(input) }
      } catch (error) {
        return { error }
      }
    }),
  )
  const postMessage = createGroupCommit((inputs: PostInput[]) => retryBusy(() => postBatchTx.immediate(inputs)))

  const removeParticipantTx = db.transaction((roomId: number, userId: number, content: string, now: number) => {
    if (!isParticipant.get(roomId, userId)) return null
    const leave = writeMessage(roomId, userId, content, 'LEAVE', now, null)!
    deleteParticipant.run(roomId, userId)
    const room = roomById.get(roomId)!
    if (room.ownerId === userId) {
      const heir = nextOwner.get(roomId)
      if (heir) setOwner.run(heir.userId, roomId)
    }
    return leave
  })

  return {
    async createUser({ username, displayName, passwordHash, now }) {
      return retryBusy(() => returning(insertUser, username, displayName, passwordHash, now))
    },
    async findCredentials(username) {
      const row = credentials.get(username)
      if (!row) return null
      const { passwordHash, ...user } = row
      return { user, passwordHash }
    },
    async getUser(id) {
      return userById.get(id)
    },
    async searchUsers(prefix, limit) {
      const low = prefix.toLowerCase()
      const bounds = [low, low + '\u{10FFFF}', limit] as const
      const found = new Map<number, UserRecord>()
      for (const user of [...usersByName.all(...bounds), ...usersByDisplayName.all(...bounds)]) found.set(user.id, user)
      return [...found.values()].sort((a, b) => (a.username < b.username ? -1 : 1)).slice(0, limit)
    },
    async existingUserIds(ids) {
      if (ids.length === 0) return new Set()
      const rows = db
        .query(`SELECT id FROM users WHERE id IN (${ids.map(() => '?').join(',')})`)
        .all(...ids) as { id: number }[]
      return new Set(rows.map((r) => r.id))
    },

    async createSession({ userId, tokenHash, now, expiresAt }) {
      return retryBusy(() => returning(insertSession, tokenHash, userId, now, expiresAt)!.id)
    },
    async findSession(tokenHash, now) {
      const row = sessionByHash.get(tokenHash, now)
      if (!row) return null
      const { sessionId, expiresAt, ...user } = row
      return { id: sessionId, user, expiresAt }
    },
    async extendSession(sessionId, expiresAt) {
      await retryBusy(() => extendSession.run(expiresAt, sessionId))
    },
    async deleteSession(sessionId) {
      await retryBusy(() => deleteSession.run(sessionId))
    },
    async sessionAlive(sessionId, now) {
      return sessionAlive.get(sessionId, now) !== null
    },

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
        const room = existing ?? returning(insertRoom, name, 'direct', 'private', low, now, key)!
        // Re-adds a participant who had left: the pair always has its one room.
        for (const userId of [low, high]) insertParticipant.run(room.id, userId, now, 0)
        return { room, created: !existing }
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
      const read = db.transaction(() => {
        const rooms = roomsOfUser.all(userId)
        const ids = rooms.flatMap((r) => (r.lastMessageId === null ? [] : [r.lastMessageId]))
        const last = new Map(messagesById.all(JSON.stringify(ids)).map((m) => [m.id, m]))
        return rooms.map(({ lastMessageId, ...room }): RoomSummary => ({ ...room, lastMessage: last.get(lastMessageId ?? 0) ?? null }))
      })
      const activity = (s: RoomSummary) => s.lastMessage?.createdAt ?? s.createdAt
      return read.deferred().sort((a, b) => activity(b) - activity(a) || b.id - a.id)
    },
    async roomSummary(roomId, userId) {
      const room = roomById.get(roomId)
      if (!room) return null
      const marker = lastReadOf.get(roomId, userId)
      // A non-participant (reading a public room) has no marker: nothing is unread for them.
      return marker ? summaryOf(room, marker.lastReadId, userId) : { ...room, lastMessage: lastMessageOf.get(roomId), unreadCount: 0 }
    },
    async publicRoomsNotJoined(userId, limit) {
      return publicRooms.all(userId, limit)
    },
    async deleteRoom(roomId) {
      await retryBusy(() => deleteRoom.run(roomId))
    },
    async addParticipant(roomId, userId, now) {
      const user = userById.get(userId)
      const content = `${user?.displayName ?? 'someone'} joined`
      return retryBusy(() => addParticipantTx.immediate(roomId, userId, content, now))
    },
    async removeParticipant(roomId, userId, now) {
      const user = userById.get(userId)
      const content = `${user?.displayName ?? 'someone'} left`
      return retryBusy(() => removeParticipantTx.immediate(roomId, userId, content, now))
    },

    postMessage,
    async findClientMessage(senderId, roomId, clientMessageId) {
      return messageByClientId.get(senderId, roomId, clientMessageId)
    },
    async history({ roomId, beforeId, afterId, limit }) {
      if (afterId !== undefined) return after.all(roomId, afterId, beforeId ?? Number.MAX_SAFE_INTEGER, limit)
      const rows = beforeId !== undefined ? before.all(roomId, beforeId, limit) : newest.all(roomId, limit)
      return rows.reverse()
    },
    async messagesAfter(afterId, limit) {
      return allAfter.all(afterId, limit)
    },
    async userMessagesAfter(userId, afterId, limit) {
      return userAfter.all(afterId, userId, limit)
    },
    async maxMessageId() {
      return maxId.get()!.id
    },
    async markRead(roomId, userId, messageId) {
      return (await retryBusy(() => markRead.run(messageId, roomId, userId))).changes > 0
    },

    async ping() {
      try {
        return db.query('SELECT 1 AS ok').get() !== null
      } catch {
        return false
      }
    },
    close() {
      db.close()
    },
  }
}
