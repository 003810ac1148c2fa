import type { Database } from 'bun:sqlite'
import type { InviteRecord } from '../store'
import { bounded, retryBusy, returning, statement } from './database'
import type { InviteStore } from '../parts'

/** What registration writes through, inside its own transaction. */
export interface InviteWriter {
  /** Takes one use of a live invite; false when it is unknown, expired or used up. */
  take(token: string, now: number): boolean
}

const INVITE = `token, created_at AS createdAt, expires_at AS expiresAt, max_uses AS maxUses, uses`
/** Neither expired (at `now`, the parameter named) nor used up. */
const live = (now: string) => `expires_at > ${now} AND (max_uses IS NULL OR uses < max_uses)`

export function createInviteStore(db: Database): InviteStore & { writer: InviteWriter } {
  const q = <T>(sql: string) => statement<T>(db, sql)
  const insert = q<InviteRecord>(
    `INSERT INTO invites (token, created_by, created_at, expires_at, max_uses) VALUES (?, ?, ?, ?, ?) RETURNING ${INVITE}`,
  )
  // The check and the count are one statement: two registrations racing for the last use
  // cannot both pass it (SQLite runs one write at a time; PostgreSQL locks the row).
  const take = q<{ one: number }>(`UPDATE invites SET uses = uses + 1 WHERE token = ?1 AND ${live('?2')} RETURNING 1 AS one`)
  const liveOne = q<InviteRecord>(`SELECT ${INVITE} FROM invites WHERE token = ?1 AND ${live('?2')}`)
  const allLive = q<InviteRecord>(`SELECT ${INVITE} FROM invites WHERE ${live('?1')} ORDER BY created_at DESC, token LIMIT ?2`)
  const remove = q<{ one: number }>(`DELETE FROM invites WHERE token = ? RETURNING 1 AS one`)
  const dropDead = q(`DELETE FROM invites WHERE expires_at <= ?1 OR (max_uses IS NOT NULL AND uses >= max_uses)`)

  const createTx = db.transaction((token: string, createdBy: number | null, now: number, expiresAt: number, maxUses: number | null) => {
    dropDead.run(now)
    return returning(insert, token, createdBy, now, expiresAt, maxUses)!
  })

  return {
    writer: { take: (token, now) => returning(take, token, now) !== null },
    async createInvite({ token, createdBy, now, expiresAt, maxUses }) {
      return retryBusy(() => createTx.immediate(token, createdBy, now, expiresAt, maxUses))
    },
    async findLiveInvite(token, now) {
      return liveOne.get(token, now)
    },
    async liveInvites(now, limit) {
      return allLive.all(now, bounded(limit))
    },
    async deleteInvite(token) {
      return retryBusy(() => returning(remove, token) !== null)
    },
  }
}
