import type { SQL } from 'bun'
import type { Role, UserRecord } from '../store'
import { num, numOrNull } from './database'

/** A row as Bun's client returns it (int8 columns as strings). */
export type Row = Record<string, unknown>

/** The columns a UserRecord is read from (alias u); quoted aliases keep their case. */
export const userColumns = (sql: SQL) =>
  sql`u.id, u.username, u.display_name AS "displayName", u.created_at AS "createdAt", u.role, u.deactivated_at AS "deactivatedAt"`

export const toUser = (row: Row): UserRecord => ({
  id: num(row.id),
  username: row.username as string,
  displayName: row.displayName as string,
  createdAt: num(row.createdAt),
  role: row.role as Role,
  deactivatedAt: numOrNull(row.deactivatedAt),
})

export const userOrNull = (rows: Row[]): UserRecord | null => (rows[0] ? toUser(rows[0]) : null)

/** The ids of rows with an `id` column, as numbers. */
export const ids = (rows: Row[]): number[] => rows.map((row) => num(row.id))
