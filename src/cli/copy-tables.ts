/**
 * Which tables `copy-to-postgres` copies, in an order that satisfies every foreign key (a row
 * is inserted after the rows it references). Columns are not listed here: each table's are
 * those of the SQLite table, and PostgreSQL's must match them, except columns it computes or
 * fills itself (generated, identity, a default), so a column added on one side and not the
 * other stops the copy instead of being lost.
 */
export const COPIED_TABLES: readonly string[] = [
  'users',
  'sessions',
  'password_resets',
  'invites',
  'revocations',
  'rooms',
  'participants',
  'messages',
  'message_events',
  'mentions',
  'reactions',
  'files',
  'file_removals',
  'server_keys',
  'push_subscriptions',
  'outgoing',
  'webhook_deliveries',
]

/**
 * Tables whose rows are replaced, not added to: a server started once on the new database
 * made its own VAPID key pair, but the push subscriptions being copied were made with the old
 * server's public key, so the old keys are the ones that must win.
 */
export const REPLACED_TABLES: ReadonlySet<string> = new Set(['server_keys'])

/**
 * SQLite's own machinery, with nothing to copy: the search index (FTS5 and its shadow tables;
 * PostgreSQL computes its tsvector from each row as it is inserted), the backfill and deferral
 * markers of that index, AUTOINCREMENT's counters (read for the sequences, see
 * postgres-copy.ts). `event_sequence` is not copied as a row: its counter is set.
 */
export const isSqliteOnly = (table: string): boolean =>
  table.startsWith('sqlite_') || table.startsWith('message_search') || ['search_backlog', 'search_deferral', 'event_sequence'].includes(table)

/** PostgreSQL's own tables: the schema version and the event counter (set, not copied). */
export const POSTGRES_ONLY: ReadonlySet<string> = new Set(['chat_schema', 'event_sequence'])
