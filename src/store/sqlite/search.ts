import type { Database } from 'bun:sqlite'
import { bounded, retryBusy, statement } from './database'
import { MESSAGE, toRecords, type MessageRow } from './message-rows'
import type { SearchStore } from '../parts'

/** The index's tokenizer (migration 5): a query is cut into words exactly as messages are. */
const TOKENIZER = `unicode61 remove_diacritics 2`
/** Above this many index terms starting with a word, FTS5's own prefix query takes the word. */
const MAX_TERMS_PER_WORD = 16
/** Past every term that starts with a word (terms compare as UTF-8 bytes). */
const AFTER_PREFIX = '\u{10FFFF}'
/**
 * How a search in the caller's rooms is scoped. Naming them in the query (`room : ("3" OR "8")`)
 * makes the index intersect them with the words: ~0.1 ms per room named (measured on 1,000,000
 * messages), however few of the hits they hold. The join on membership instead reads hits
 * newest first until the page is full: ~1 µs per hit, and with the caller's rooms holding
 * rooms/allRooms of the messages, a page of a common word reads limit * allRooms / rooms hits.
 * Rooms are named when that costs less: rooms^2 * NAMED_ROOM_COST < limit * allRooms.
 */
const NAMED_ROOM_COST = 100

/** An FTS5 string: user text only ever reaches MATCH inside double quotes, never as syntax. */
const quoted = (term: string) => `"${term.replaceAll('"', '""')}"`

/**
 * Search over the FTS5 index of migration 5. A query word must match the start of a word of
 * the message. FTS5's prefix query (`"deploy"*`) merges the whole doclist of every matching
 * term before it returns a row (~50 ms for a term in 1,000,000 messages), while an exact term
 * is read lazily, newest first, and stops at the page (~0.1 ms). So each word becomes the
 * exact terms of the index that start with it, read from `message_search_terms` one seek at a
 * time (`("deploy" OR "deployed" OR "deployment")`); only a word that starts more than
 * MAX_TERMS_PER_WORD terms (a short one: `d`) is left to FTS5's prefix query.
 */
export function createSearchStore(db: Database): SearchStore {
  // The query's words, cut and folded by the index's own tokenizer: a one-row scratch index in
  // the connection's temp schema (no write to the database file, no lock).
  db.run(`CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_query USING fts5(content, content = '', tokenize = '${TOKENIZER}')`)
  db.run(`CREATE VIRTUAL TABLE IF NOT EXISTS temp.search_query_terms USING fts5vocab(temp, search_query, 'instance')`)
  const q = <T>(sql: string) => statement<T>(db, sql)
  const putQuery = q(`INSERT INTO temp.search_query (rowid, content) VALUES (1, ?)`)
  const queryWords = q<{ term: string }>(`SELECT term FROM temp.search_query_terms ORDER BY "offset"`)
  const clearQuery = q(`INSERT INTO temp.search_query (search_query) VALUES ('delete-all')`)
  const nextTerm = q<{ term: string }>(`SELECT term FROM message_search_terms WHERE term >= ? AND term < ? AND col = 'content' LIMIT 1`)
  const roomsOf = q<{ roomId: number }>(`SELECT room_id AS roomId FROM participants WHERE user_id = ?`)
  // The highest id ever used stands for the number of rooms: a rowid look-up, not a count.
  const allRooms = q<{ n: number }>(`SELECT coalesce(max(id), 0) AS n FROM rooms`)

  // The index drives both: newest hit first, each joined to its row (a deleted message has
  // none) and, for the caller's rooms, to their membership, until the page is full.
  const inRooms = q<MessageRow>(
    `SELECT ${MESSAGE} FROM message_search s
     CROSS JOIN messages m ON m.id = s.rowid
     CROSS JOIN participants p ON p.room_id = m.room_id AND p.user_id = ?
     WHERE message_search MATCH ? AND s.rowid < ? AND m.message_type = 'MESSAGE'
     ORDER BY s.rowid DESC LIMIT ?`,
  )
  const inRoom = q<MessageRow>(
    `SELECT ${MESSAGE} FROM message_search s
     CROSS JOIN messages m ON m.id = s.rowid
     WHERE message_search MATCH ? AND s.rowid < ? AND m.room_id = ? AND m.message_type = 'MESSAGE'
     ORDER BY s.rowid DESC LIMIT ?`,
  )

  const backlog = q<{ belowId: number }>(`SELECT below_id AS belowId FROM search_backlog`)
  const indexRange = q(
    `INSERT INTO message_search (rowid, content, room)
     SELECT id, content, room_id FROM messages WHERE id >= ? AND id < ? AND message_type = 'MESSAGE'`,
  )
  const moveBacklog = q(`UPDATE search_backlog SET below_id = ?`)

  /** The query's distinct words, less those that start another (`dep deploy`: `deploy` says both). */
  function words(text: string): string[] {
    putQuery.run(text)
    let found: string[]
    try {
      found = [...new Set(queryWords.all().map((row) => row.term))]
    } finally {
      clearQuery.run()
    }
    return found.filter((word) => !found.some((other) => other !== word && other.startsWith(word)))
  }

  /** The word as an FTS5 expression: its exact terms in the index, or a prefix query. */
  function expand(word: string): string {
    const terms: string[] = []
    const end = word + AFTER_PREFIX
    // '\x01' sorts right after a term and before any longer one: tokens hold no control characters.
    for (let from = word; terms.length <= MAX_TERMS_PER_WORD; ) {
      const row = nextTerm.get(from, end)
      if (!row) break
      terms.push(row.term)
      from = row.term + '\x01'
    }
    if (terms.length > MAX_TERMS_PER_WORD) return `${quoted(word)}*`
    // No term starts with it: a term that cannot match keeps the AND (and the page) empty.
    return terms.length === 0 ? quoted(word) : `(${terms.map(quoted).join(' OR ')})`
  }

  // Short and never interleaved with another write of this process (bun:sqlite is synchronous);
  // immediate, so instances on one file take turns and each reads the backlog the last one left.
  const indexBatch = db.transaction((batch: number) => {
    const { belowId } = backlog.get()!
    if (belowId <= 1) return { indexed: 0, done: true }
    const from = Math.max(1, belowId - batch)
    const indexed = indexRange.run(from, belowId).changes
    moveBacklog.run(from)
    return { indexed, done: from <= 1 }
  })

  return {
    async searchMessages({ userId, roomId, text, beforeId, limit }) {
      const found = words(text)
      if (found.length === 0) return []
      const match = `content : (${found.map(expand).join(' AND ')})`
      const before = beforeId ?? Number.MAX_SAFE_INTEGER
      if (roomId !== undefined) return toRecords(inRoom.all(`${match} AND room : "${roomId}"`, before, roomId, bounded(limit)))
      const rooms = roomsOf.all(userId).map((row) => `"${row.roomId}"`)
      if (rooms.length === 0) return []
      const named = rooms.length ** 2 * NAMED_ROOM_COST < bounded(limit) * allRooms.get()!.n
      const scoped = named ? `${match} AND room : (${rooms.join(' OR ')})` : match
      return toRecords(inRooms.all(userId, scoped, before, bounded(limit)))
    },
    async indexSearchBacklog(batch) {
      return retryBusy(() => indexBatch.immediate(Math.max(1, Math.trunc(batch))))
    },
  }
}
