import { bounded, type Database } from './database'
import { messageColumns, toRecords, type Row } from './message-rows'
import type { SearchStore } from '../parts'

/**
 * Search over the generated tsvector of schema/search.ts.
 *
 * The query's words are cut by the same SQL function as the messages (`chat_search_text`), so
 * both sides agree on what a word is; each becomes a prefix term `'word':*` of a tsquery built
 * from the lexemes, never from the user's text: `to_tsquery` would read `&`, `|`, `!`, `:` and
 * quotes as syntax. A query with no words matches nothing. The search itself is the SQL
 * function `chat_search` (schema/search.ts: why it plans each query afresh).
 */
export function createSearchStore(db: Database): SearchStore {
  return {
    async searchMessages({ userId, roomId, text, beforeId, limit }) {
      const n = bounded(limit)
      // PostgreSQL text holds no NUL character: it would fail the query, not match anything.
      const words = text.replaceAll('\u0000', ' ')
      if (n === 0 || words.trim().length === 0) return []
      const before = beforeId ?? Number.MAX_SAFE_INTEGER
      const rows: Row[] = await db.run(
        (sql) => sql`
          SELECT ${messageColumns(sql)} FROM chat_search(${userId}::int8, ${roomId ?? null}::int8, ${words}::text, ${before}::int8, ${n}::int4) m
          ORDER BY m.id DESC`,
      )
      return toRecords(rows)
    },

    async indexSearchBacklog() {
      // Every row's vector is generated as it is written: a PostgreSQL database has no backlog.
      return { indexed: 0, done: true }
    },
  }
}
