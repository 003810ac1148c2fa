import type { SQL } from 'bun'
import type { SessionKind, SessionRecord, TokenRecord } from '../store'
import { bounded, num, numOrNull, type Database } from './database'
import { ids, toUser, userColumns, type Row } from './accounts-rows'
import type { RevocationWriter } from './accounts-revocations'
import type { NewSession, SessionStore } from '../parts'

/** What the other account parts write through, inside their own transactions. */
export interface SessionWriter {
  create(tx: SQL, input: NewSession): Promise<number>
  /** Deletes userId's sessions (of `kind`, else every kind) but `keep`; answers their ids. */
  endAll(tx: SQL, userId: number, keep: number | null, kind?: SessionKind): Promise<number[]>
}

/** Live (at `now`): not expired (NULL never expires), of an active user. */
const live = (sql: SQL, now: number) => sql`(s.expires_at IS NULL OR s.expires_at > ${now}) AND u.deactivated_at IS NULL`

const toToken = (row: Row): TokenRecord => ({
  id: num(row.id),
  name: row.name as string,
  createdAt: num(row.created_at),
  expiresAt: numOrNull(row.expires_at),
  lastUsedAt: numOrNull(row.last_used_at),
})

export const sessionWriter: SessionWriter = {
  // Expired rows (sessions and access tokens) are already refused; they go when their user
  // next signs in or makes a token, through the user's index, in the same statement.
  async create(sql, { userId, tokenHash, now, expiresAt, kind = 'session', name }) {
    const [row] = await sql`
      WITH expired AS (DELETE FROM sessions WHERE user_id = ${userId} AND expires_at <= ${now})
      INSERT INTO sessions (token_hash, user_id, created_at, expires_at, kind, name)
      VALUES (${tokenHash}, ${userId}, ${now}, ${expiresAt}, ${kind}, ${name ?? null}) RETURNING id`
    return num(row.id)
  },
  // Ascending, as SQLite answers (a DELETE's RETURNING follows whatever scan it made).
  async endAll(sql, userId, keep, kind) {
    const ended = await sql`DELETE FROM sessions WHERE user_id = ${userId} AND id IS DISTINCT FROM ${keep}::int8
                            AND (${kind ?? null}::text IS NULL OR kind = ${kind ?? null}) RETURNING id`
    return ids(ended).sort((a, b) => a - b)
  },
}

export function createSessionStore(db: Database, revocations: RevocationWriter): SessionStore {
  /** Ends the session `ending` deletes (RETURNING id, user_id), logged; false when none. */
  const endOne = async (ending: (sql: SQL) => SQL.Query<unknown>, now: number) =>
    (await db.run((sql) => revocations.endSessions(sql, ending(sql), now))) > 0

  return {
    createSession: (input) => db.run((sql) => sessionWriter.create(sql, input)),
    async findSession(tokenHash, now): Promise<SessionRecord | null> {
      const [row] = await db.run(
        (sql) => sql`SELECT s.id AS "sessionId", s.kind, s.expires_at AS "expiresAt", s.last_used_at AS "lastUsedAt", ${userColumns(sql)}
                     FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ${tokenHash} AND ${live(sql, now)}`,
      )
      if (!row) return null
      return {
        id: num(row.sessionId),
        user: toUser(row),
        kind: row.kind as SessionKind,
        expiresAt: numOrNull(row.expiresAt),
        lastUsedAt: numOrNull(row.lastUsedAt),
      }
    },
    async extendSession(sessionId, expiresAt) {
      await db.run((sql) => sql`UPDATE sessions SET expires_at = ${expiresAt} WHERE id = ${sessionId}`)
    },
    async touchSession(sessionId, now) {
      await db.run((sql) => sql`UPDATE sessions SET last_used_at = ${now} WHERE id = ${sessionId}`)
    },
    deleteSession: (sessionId, now) => endOne((sql) => sql`DELETE FROM sessions WHERE id = ${sessionId} RETURNING id, user_id`, now),
    async sessionAlive(sessionId, now) {
      const rows = await db.run(
        (sql) => sql`SELECT 1 FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.id = ${sessionId} AND ${live(sql, now)}`,
      )
      return rows.length > 0
    },
    async listTokens(userId, now, limit) {
      const rows = await db.run(
        (sql) => sql`SELECT id, name, created_at, expires_at, last_used_at FROM sessions
                     WHERE user_id = ${userId} AND kind = 'token' AND (expires_at IS NULL OR expires_at > ${now})
                     ORDER BY id DESC LIMIT ${bounded(limit)}`,
      )
      return rows.map(toToken)
    },
    deleteToken: (userId, tokenId, now) =>
      endOne((sql) => sql`DELETE FROM sessions WHERE user_id = ${userId} AND id = ${tokenId} AND kind = 'token' RETURNING id, user_id`, now),
  }
}
