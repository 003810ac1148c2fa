import type { SQL } from 'bun'
import type { InviteRecord } from '../store'
import { bounded, num, type Database } from './database'
import type { Row } from './accounts-rows'
import type { InviteStore } from '../parts'

/** What registration writes through, inside its own transaction. */
export interface InviteWriter {
  /** Takes one use of a live invite; false when it is unknown, expired or used up. */
  take(tx: SQL, token: string, now: number): Promise<boolean>
}

const INVITE = (sql: SQL) => sql`token, created_at, expires_at, max_uses, uses`
/** Neither expired at `now` nor used up. */
const live = (sql: SQL, now: number) => sql`expires_at > ${now} AND (max_uses IS NULL OR uses < max_uses)`

const toInvite = (row: Row): InviteRecord => ({
  token: row.token as string,
  createdAt: num(row.created_at),
  expiresAt: num(row.expires_at),
  maxUses: row.max_uses === null ? null : num(row.max_uses),
  uses: num(row.uses),
})

export const inviteWriter: InviteWriter = {
  // The check and the count are one UPDATE: of registrations racing for the last use, the
  // others wait on the row's lock and then re-check `uses < max_uses` on the row as the
  // winner left it (READ COMMITTED re-evaluates an updated row), so only one gets in.
  async take(tx, token, now) {
    const rows = await tx`UPDATE invites SET uses = uses + 1 WHERE token = ${token} AND ${live(tx, now)} RETURNING 1`
    return rows.length > 0
  },
}

export function createInviteStore(db: Database): InviteStore {
  return {
    async createInvite({ token, createdBy, now, expiresAt, maxUses }) {
      // Dead invites (expired or used up) go when the next one is made.
      const [row] = await db.run(
        (sql) => sql`WITH dead AS (DELETE FROM invites WHERE expires_at <= ${now} OR (max_uses IS NOT NULL AND uses >= max_uses))
                     INSERT INTO invites (token, created_by, created_at, expires_at, max_uses)
                     VALUES (${token}, ${createdBy}, ${now}, ${expiresAt}, ${maxUses}) RETURNING ${INVITE(sql)}`,
      )
      return toInvite(row)
    },
    async findLiveInvite(token, now) {
      const [row] = await db.run((sql) => sql`SELECT ${INVITE(sql)} FROM invites WHERE token = ${token} AND ${live(sql, now)}`)
      return row ? toInvite(row) : null
    },
    async liveInvites(now, limit) {
      const rows = await db.run(
        (sql) => sql`SELECT ${INVITE(sql)} FROM invites WHERE ${live(sql, now)}
                     ORDER BY created_at DESC, token COLLATE "C" LIMIT ${bounded(limit)}`,
      )
      return rows.map(toInvite)
    },
    async deleteInvite(token) {
      const rows = await db.run((sql) => sql`DELETE FROM invites WHERE token = ${token} RETURNING 1`)
      return rows.length > 0
    },
  }
}
