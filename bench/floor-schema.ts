/**
 * The floor server's tables and queries, shared by the floor itself, the history seeder and
 * the in-process timing, so all three ask SQLite exactly the same thing.
 */

export const FLOOR_SCHEMA = `
  CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id INTEGER NOT NULL,
    sender_id INTEGER NOT NULL,
    content TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS messages_room ON messages (room_id, id);
  CREATE TABLE IF NOT EXISTS participants (
    user_id INTEGER NOT NULL,
    room_id INTEGER NOT NULL,
    PRIMARY KEY (user_id, room_id)
  ) WITHOUT ROWID;
`

export const FLOOR_PRAGMAS = 'PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;'

const COLUMNS = 'id, room_id AS roomId, sender_id AS senderId, content, created_at AS createdAt'

/** Each takes (roomId, [cursor,] limit); the newest-first ones are reversed by the caller. */
export const FLOOR_QUERIES = {
  insert: 'INSERT INTO messages (room_id, sender_id, content, created_at) VALUES (?, ?, ?, ?)',
  newest: `SELECT ${COLUMNS} FROM messages WHERE room_id = ? ORDER BY id DESC LIMIT ?`,
  before: `SELECT ${COLUMNS} FROM messages WHERE room_id = ? AND id < ? ORDER BY id DESC LIMIT ?`,
  after: `SELECT ${COLUMNS} FROM messages WHERE room_id = ? AND id > ? ORDER BY id ASC LIMIT ?`,
  /** A user's rooms with their last message, most recent activity first. */
  rooms: `
    SELECT p.room_id AS roomId, m.id, m.sender_id AS senderId, m.content, m.created_at AS createdAt
    FROM participants p
    LEFT JOIN messages m ON m.id = (SELECT max(id) FROM messages WHERE room_id = p.room_id)
    WHERE p.user_id = ?
    ORDER BY m.id DESC`,
} as const
