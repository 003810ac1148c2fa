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
  // 3: conversations. One server-wide event sequence: `event_sequence` holds the last number
  // handed out; a message takes last + 1 as its id, a change event (edit, reaction, deletion)
  // takes last + 1 as its own id, and the triggers move the counter in the same statement, so
  // the number is taken under the write lock held to commit. The triggers follow explicit ids
  // too: rows written around the store (a bulk seed, an import) keep the counter ahead of them.
  // Mentions and reactions live in their own tables (the truth, indexed for counts and
  // look-ups) and as JSON on the message row, the copy every read returns without a join.
  `
  CREATE TABLE event_sequence (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    last_id INTEGER NOT NULL
  );
  -- An existing database's ids stay valid: the sequence goes on after the newest id ever used.
  INSERT INTO event_sequence (id, last_id) VALUES (1, max(
    coalesce((SELECT max(id) FROM messages), 0),
    coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'messages'), 0)));

  CREATE TABLE message_events (
    id INTEGER PRIMARY KEY,
    room_id INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    -- no foreign key: a deletion's event outlives its message
    message_id INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('updated', 'deleted')),
    created_at INTEGER NOT NULL
  );
  CREATE INDEX message_events_room ON message_events (room_id, id);

  CREATE TRIGGER messages_sequence AFTER INSERT ON messages BEGIN
    UPDATE event_sequence SET last_id = NEW.id WHERE last_id < NEW.id;
  END;
  CREATE TRIGGER message_events_sequence AFTER INSERT ON message_events BEGIN
    UPDATE event_sequence SET last_id = NEW.id WHERE last_id < NEW.id;
  END;

  ALTER TABLE messages ADD COLUMN edited_at INTEGER;
  -- no foreign key: a reply outlives the message it answers (clients show "deleted message")
  ALTER TABLE messages ADD COLUMN reply_to_id INTEGER;
  -- JSON copies of the mentions and reactions tables; NULL when empty
  ALTER TABLE messages ADD COLUMN mentions TEXT;
  ALTER TABLE messages ADD COLUMN reactions TEXT;

  CREATE TABLE mentions (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL,
    room_id INTEGER NOT NULL,
    PRIMARY KEY (message_id, user_id)
  ) WITHOUT ROWID;
  -- mentionCount of the room list: (user, room, id > read marker)
  CREATE INDEX mentions_user_room ON mentions (user_id, room_id, message_id);
  -- GET /mentions: a user's newest, across rooms
  CREATE INDEX mentions_user ON mentions (user_id, message_id);

  CREATE TABLE reactions (
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    emoji TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    PRIMARY KEY (message_id, emoji, user_id)
  ) WITHOUT ROWID;

  -- NULL: the default of the room's type (direct 'all', group 'mentions')
  ALTER TABLE participants ADD COLUMN notification_level TEXT
    CHECK (notification_level IN ('all', 'mentions', 'none'));
  `,
  // 4: files. An upload is a row here and a file under FILES_PATH named by `storage_key` (made
  // by the server; the user's name is metadata). It belongs to its room and, once posted, to
  // its message: deleting either deletes the row (foreign keys), and a trigger queues the disk
  // copy in `file_removals`, so the files on disk follow the database even across a crash or
  // another instance. `messages.attachments` is the JSON copy every message read returns.
  `
  CREATE TABLE files (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id INTEGER NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    uploader_id INTEGER NOT NULL REFERENCES users (id),
    message_id INTEGER REFERENCES messages (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    width INTEGER,
    height INTEGER,
    storage_key TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX files_room ON files (room_id);
  CREATE INDEX files_message ON files (message_id) WHERE message_id IS NOT NULL;
  -- the orphan sweep: unattached uploads by age
  CREATE INDEX files_unattached ON files (created_at) WHERE message_id IS NULL;

  CREATE TABLE file_removals (
    storage_key TEXT PRIMARY KEY
  ) WITHOUT ROWID;
  CREATE TRIGGER files_removed AFTER DELETE ON files BEGIN
    INSERT OR IGNORE INTO file_removals (storage_key) VALUES (OLD.storage_key);
  END;

  -- JSON copy of the message's files, in the order given; NULL when none
  ALTER TABLE messages ADD COLUMN attachments TEXT;
  `,
  // 5: search. A contentless FTS5 index of MESSAGE rows (rowid = message id; the text stays in
  // `messages`), kept in step by triggers, so every post, edit and deletion (a room's too, by
  // its cascade) changes the index inside its own transaction. `unicode61 remove_diacritics 2`:
  // case and Latin accents folded, a run of letters of any script one token (`채팅방에서`).
  // `room` holds the room id as a token, so a search in a few rooms is an intersection inside
  // the index instead of a walk through every room's hits. `detail = column`: no positions (a
  // query is single words, never phrases), so doclists are smaller and faster to read.
  // An existing database is not indexed here: 1,000,000 messages take ~4 s of CPU (more under
  // load), too long to hold start-up and the write lock. Rows below `search_backlog.below_id`
  // are still to be indexed; a background job (src/modules/search/backfill.ts) indexes them in
  // short batches, newest first, moving it down. The triggers keep off those rows, which the
  // job reads as they are when it reaches them, so no row is ever indexed twice.
  `
  CREATE VIRTUAL TABLE message_search USING fts5(
    content, room, content = '', contentless_delete = 1, detail = column,
    tokenize = 'unicode61 remove_diacritics 2'
  );
  -- Every (term, message) of the index, read lazily in term order: how a query word's prefix
  -- becomes the few exact terms that start with it (src/store/sqlite/search.ts).
  CREATE VIRTUAL TABLE message_search_terms USING fts5vocab(message_search, 'instance');

  CREATE TABLE search_backlog (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    below_id INTEGER NOT NULL
  );
  INSERT INTO search_backlog (id, below_id) VALUES (1, (SELECT coalesce(max(id), 0) + 1 FROM messages));

  CREATE TRIGGER message_search_insert AFTER INSERT ON messages
  WHEN NEW.message_type = 'MESSAGE' AND NEW.id >= (SELECT below_id FROM search_backlog) BEGIN
    INSERT INTO message_search (rowid, content, room) VALUES (NEW.id, NEW.content, NEW.room_id);
  END;
  CREATE TRIGGER message_search_update AFTER UPDATE OF content ON messages
  WHEN NEW.message_type = 'MESSAGE' AND OLD.id >= (SELECT below_id FROM search_backlog) BEGIN
    DELETE FROM message_search WHERE rowid = OLD.id;
    INSERT INTO message_search (rowid, content, room) VALUES (NEW.id, NEW.content, NEW.room_id);
  END;
  CREATE TRIGGER message_search_delete AFTER DELETE ON messages
  WHEN OLD.message_type = 'MESSAGE' AND OLD.id >= (SELECT below_id FROM search_backlog) BEGIN
    DELETE FROM message_search WHERE rowid = OLD.id;
  END;
  `,
  // 6: accounts. Roles and deactivation on users (an upgraded server's oldest account becomes
  // its admin, as the first account of a new one is). Access tokens are sessions of another
  // kind, so one lookup, one revocation path and one stream check serve both: the sessions
  // table is rebuilt for its new columns and a nullable expiry (a token may never expire).
  // Invites keep their token readable (admins list and copy the links); reset links and every
  // session keep only a hash. `revocations` is the log other processes (the CLI, the other
  // instances) read to end streams and forget cached sessions: see auth/revocation-watch.ts.
  `
  ALTER TABLE users ADD COLUMN role TEXT NOT NULL DEFAULT 'member' CHECK (role IN ('admin', 'member', 'bot'));
  ALTER TABLE users ADD COLUMN deactivated_at INTEGER;
  -- a bot's outgoing webhook (the integrations issue)
  ALTER TABLE users ADD COLUMN webhook_url TEXT;
  UPDATE users SET role = 'admin' WHERE id = (SELECT min(id) FROM users);

  CREATE TABLE sessions_v6 (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash BLOB NOT NULL UNIQUE,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind TEXT NOT NULL DEFAULT 'session' CHECK (kind IN ('session', 'token')),
    -- an access token's name
    name TEXT,
    created_at INTEGER NOT NULL,
    -- NULL: never (an access token made without expiry)
    expires_at INTEGER,
    last_used_at INTEGER
  );
  INSERT INTO sessions_v6 (id, token_hash, user_id, created_at, expires_at)
    SELECT id, token_hash, user_id, created_at, expires_at FROM sessions;
  DROP TABLE sessions;
  ALTER TABLE sessions_v6 RENAME TO sessions;
  CREATE INDEX sessions_user ON sessions (user_id, kind);

  CREATE TABLE password_resets (
    token_hash BLOB PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX password_resets_user ON password_resets (user_id);

  CREATE TABLE invites (
    token TEXT PRIMARY KEY,
    -- NULL: made from the command line
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    -- NULL: unlimited
    max_uses INTEGER,
    uses INTEGER NOT NULL DEFAULT 0
  ) WITHOUT ROWID;

  CREATE TABLE revocations (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    -- the session that ended; NULL: the account changed (role, name, status), cached copies go
    session_id INTEGER,
    at INTEGER NOT NULL
  );
  `,
  // 7: integrations. `outgoing` is the delivery queue of webhook calls and pushes (one row per
  // call: one bot, or one push subscription, for one message). The trigger fills it inside the
  // INSERT of the message, so a message and the calls it causes commit together or not at all,
  // whichever code path stores it. `due_at` is when the row may be taken: a claim moves it past
  // a lease (src/delivery/queue.ts), a failure to the next retry, so one index serves new,
  // retried and abandoned (lease run out) calls alike. Who is away is judged at send time.
  // The VAPID key pair (one for every instance) lives in `server_keys`; a bot's webhook secret
  // is kept readable on its user row (the server signs with it), its last try in
  // `webhook_deliveries`.
  `
  ALTER TABLE users ADD COLUMN webhook_secret TEXT;

  CREATE TABLE server_keys (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE push_subscriptions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    endpoint TEXT NOT NULL UNIQUE,
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);

  CREATE TABLE outgoing (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('webhook', 'push')),
    -- webhook: the bot's user id; push: the subscription's id
    target_id INTEGER NOT NULL,
    message_id INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
    room_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    due_at INTEGER NOT NULL,
    -- tries started; also the claim's fence (a stale worker's outcome names an older try)
    attempts INTEGER NOT NULL DEFAULT 0
  );
  CREATE INDEX outgoing_due ON outgoing (due_at);
  CREATE INDEX outgoing_message ON outgoing (message_id);
  -- a bot's waiting calls (the admin's bot list)
  CREATE INDEX outgoing_target ON outgoing (kind, target_id);

  -- each bot's last webhook try: what the admin's bot list shows
  CREATE TABLE webhook_deliveries (
    bot_id INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    at INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    -- the HTTP status; NULL: no answer
    status INTEGER,
    error TEXT
  );

  -- A mentioned bot; then a bot in a direct room that the message did not mention (no row twice).
  -- The WHEN clauses keep a plain message in a group room from reading anything.
  CREATE TRIGGER outgoing_webhooks_mentioned AFTER INSERT ON messages
  WHEN NEW.message_type = 'MESSAGE' AND NEW.mentions IS NOT NULL BEGIN
    INSERT INTO outgoing (kind, target_id, message_id, room_id, created_at, due_at)
    SELECT 'webhook', u.id, NEW.id, NEW.room_id, NEW.created_at, NEW.created_at
    FROM json_each(NEW.mentions) j JOIN users u ON u.id = j.value
    WHERE u.role = 'bot' AND u.webhook_url IS NOT NULL AND u.deactivated_at IS NULL AND u.id != NEW.sender_id;
  END;
  CREATE TRIGGER outgoing_webhooks_direct AFTER INSERT ON messages
  WHEN NEW.message_type = 'MESSAGE' AND (SELECT type FROM rooms WHERE id = NEW.room_id) = 'direct' BEGIN
    INSERT INTO outgoing (kind, target_id, message_id, room_id, created_at, due_at)
    SELECT 'webhook', u.id, NEW.id, NEW.room_id, NEW.created_at, NEW.created_at
    FROM participants p JOIN users u ON u.id = p.user_id
    WHERE p.room_id = NEW.room_id AND u.role = 'bot' AND u.webhook_url IS NOT NULL AND u.deactivated_at IS NULL
      AND u.id != NEW.sender_id AND u.id NOT IN (SELECT value FROM json_each(coalesce(NEW.mentions, '[]')));
  END;
  -- level 'all', or 'mentions' and mentioned (the defaults: direct 'all', group 'mentions')
  CREATE TRIGGER outgoing_pushes AFTER INSERT ON messages
  WHEN NEW.message_type = 'MESSAGE' AND EXISTS (SELECT 1 FROM push_subscriptions) BEGIN
    INSERT INTO outgoing (kind, target_id, message_id, room_id, created_at, due_at)
    SELECT 'push', s.id, NEW.id, NEW.room_id, NEW.created_at, NEW.created_at
    FROM participants p JOIN rooms r ON r.id = p.room_id JOIN push_subscriptions s ON s.user_id = p.user_id
    WHERE p.room_id = NEW.room_id AND p.user_id != NEW.sender_id
      AND CASE coalesce(p.notification_level, CASE r.type WHEN 'direct' THEN 'all' ELSE 'mentions' END)
        WHEN 'all' THEN 1
        WHEN 'mentions' THEN p.user_id IN (SELECT value FROM json_each(coalesce(NEW.mentions, '[]')))
        ELSE 0 END;
  END;
  `,
  // 8: the store's batch of posts indexes its messages for search in one statement at its end.
  // FTS5 writes its pending terms to disk whenever a statement opens a savepoint inside the
  // transaction, and every INSERT of a message does (its triggers write other tables), so a
  // trigger indexing row by row wrote one index segment per message (~20 µs each, then merged
  // again). While the batch runs, `search_deferral` holds the first id it may write and the
  // insert trigger keeps off; the batch indexes the range and deletes the row before it
  // commits, so the index still changes in the message's own transaction. Any other writer
  // finds the table empty and is indexed by the trigger as before.
  `
  CREATE TABLE search_deferral (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    from_id INTEGER NOT NULL
  );
  DROP TRIGGER message_search_insert;
  CREATE TRIGGER message_search_insert AFTER INSERT ON messages
  WHEN NEW.message_type = 'MESSAGE' AND NEW.id >= (SELECT below_id FROM search_backlog)
    AND NOT EXISTS (SELECT 1 FROM search_deferral) BEGIN
    INSERT INTO message_search (rowid, content, room) VALUES (NEW.id, NEW.content, NEW.room_id);
  END;
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
