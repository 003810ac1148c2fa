import type { Database } from 'bun:sqlite'

/**
 * Numbered schema migrations. The database's `user_version` says how many have been applied;
 * start-up applies the rest in one transaction each. Append only: never edit a shipped step.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: users, sessions, rooms, participants, messages
  `
  CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX users_display_name ON users (display_name COLLATE NOCASE);

  CREATE TABLE sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash BLOB NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX sessions_user ON sessions (user_id);

  CREATE TABLE rooms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    type TEXT NOT NULL CHECK (type IN ('group', 'direct')),
    visibility TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
    owner_id INTEGER NOT NULL REFERENCES users (id),
    created_at INTEGER NOT NULL,
    -- "<smaller user id>:<larger user id>" for direct rooms: one room per pair
    direct_key TEXT UNIQUE
  );
  CREATE INDEX rooms_public ON rooms (id) WHERE visibility = 'public';

  CREATE TABLE participants (
    room_id INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    joined_at INTEGER NOT NULL,
    last_read_id INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, user_id)
  ) WITHOUT ROWID;
  CREATE INDEX participants_user ON participants (user_id, room_id);

  -- AUTOINCREMENT: ids never go backwards, even when the newest messages are deleted
  CREATE TABLE messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    sender_id INTEGER NOT NULL REFERENCES users (id),
    content TEXT NOT NULL,
    message_type TEXT NOT NULL CHECK (message_type IN ('MESSAGE', 'JOIN', 'LEAVE')),
    created_at INTEGER NOT NULL,
    client_message_id TEXT
  );
  CREATE INDEX messages_room ON messages (room_id, id);
  CREATE UNIQUE INDEX messages_client_id ON messages (sender_id, room_id, client_message_id)
    WHERE client_message_id IS NOT NULL;
  `,
  // 2: unread counts read only the index: (room, id) ranges carry the sender too
  `
  CREATE INDEX messages_room_sender ON messages (room_id, id, sender_id);
  DROP INDEX messages_room;
  `,
]

export class SchemaTooNewError extends Error {}

/** Brings the schema up to date; refuses a database written by a newer version. */
export function migrate(db: Database): void {
  const current = (db.query('PRAGMA user_version').get() as { user_version: number }).user_version
  if (current > MIGRATIONS.length) {
    throw new SchemaTooNewError(
      `database schema version ${current} is newer than this server supports (${MIGRATIONS.length}); upgrade the server`,
    )
  }
  for (let version = current; version < MIGRATIONS.length; version++) {
    db.transaction(() => {
      db.run(MIGRATIONS[version]!)
      db.run(`PRAGMA user_version = ${version + 1}`)
    }).immediate()
  }
}
