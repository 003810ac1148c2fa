import type { SQL } from 'bun'
import { InviteUnusableError, type UserRecord } from '../store'
import { bounded, type Database } from './database'
import { ids, toUser, userColumns, userOrNull } from './accounts-rows'
import type { InviteWriter } from './accounts-invites'
import type { ResetWriter } from './accounts-resets'
import type { RevocationWriter } from './accounts-revocations'
import type { SessionWriter } from './accounts-sessions'
import type { UserStore } from '../parts'

/**
 * Any constant: the advisory lock registrations take while the users table looks empty.
 * "The first account is the admin" cannot be one INSERT ... WHERE NOT EXISTS here: under READ
 * COMMITTED two first registrations each see an empty table in their own snapshot and both
 * become admins. So while no user is visible, a registration locks, and its INSERT (a new
 * statement, a new snapshot) sees the first account if another registration committed it
 * meanwhile. Once a user is visible nobody locks: that table is never empty again.
 */
const FIRST_USER_LOCK = 7_415_102

const RETURNING_USER = (sql: SQL) =>
  sql`RETURNING id, username, display_name AS "displayName", created_at AS "createdAt", role, deactivated_at AS "deactivatedAt"`
/** Prefix ranges in byte order (usernames are stored folded; display names are folded here), as SQLite compares. */
const upper = (low: string) => low + '\u{10FFFF}'
const byUsername = (sql: SQL, low: string) => sql`u.username >= ${low} AND u.username < ${upper(low)}`
const byDisplayName = (sql: SQL, low: string) =>
  sql`lower(u.display_name) COLLATE "C" >= ${low} AND lower(u.display_name) COLLATE "C" < ${upper(low)}`

export function createUserStore(
  db: Database,
  parts: { sessions: SessionWriter; resets: ResetWriter; invites: InviteWriter; revocations: RevocationWriter },
): UserStore {
  /** Inserts unless the name is taken (null); the first non-bot account is an admin. */
  const insertUser = async (
    tx: SQL,
    user: { username: string; displayName: string; passwordHash: string; now: number; role: string; webhookUrl?: string | null; webhookSecret?: string | null },
  ): Promise<UserRecord | null> =>
    userOrNull(
      await tx`INSERT INTO users (username, display_name, password_hash, created_at, role, webhook_url, webhook_secret)
               VALUES (${user.username}, ${user.displayName}, ${user.passwordHash}, ${user.now},
                       CASE WHEN ${user.role}::text != 'bot' AND NOT EXISTS (SELECT 1 FROM users) THEN 'admin' ELSE ${user.role}::text END,
                       ${user.webhookUrl ?? null}, ${user.webhookSecret ?? null})
               ON CONFLICT (username) DO NOTHING ${RETURNING_USER(tx)}`,
    )

  /**
   * Locks the active admins (in id order, so two changes never wait on each other crosswise)
   * before a change that must leave one: two admins demoting or deactivating each other then
   * run one after the other, and the second's UPDATE (a new snapshot) sees the first's.
   */
  const lockAdmins = (tx: SQL) => tx`SELECT id FROM users WHERE role = 'admin' AND deactivated_at IS NULL ORDER BY id FOR UPDATE`
  /** Other active admins than userId: a demotion or deactivation of userId keeps at least one. */
  const anotherAdmin = (tx: SQL, userId: number) =>
    tx`EXISTS (SELECT 1 FROM users o WHERE o.role = 'admin' AND o.deactivated_at IS NULL AND o.id != ${userId})`
  const exists = async (tx: SQL, userId: number) => (await tx`SELECT 1 FROM users WHERE id = ${userId}`).length > 0

  const deactivate = (userId: number, now: number) =>
    db.tx(async (tx) => {
      await lockAdmins(tx)
      const user = userOrNull(
        await tx`UPDATE users SET deactivated_at = coalesce(deactivated_at, ${now})
                 WHERE id = ${userId} AND (role != 'admin' OR deactivated_at IS NOT NULL OR ${anotherAdmin(tx, userId)}) ${RETURNING_USER(tx)}`,
      )
      if (!user) return (await exists(tx, userId)) ? ('last-admin' as const) : ('missing' as const)
      const endedSessionIds = await parts.sessions.endAll(tx, userId, null)
      await parts.resets.drop(tx, userId)
      await parts.revocations.record(tx, userId, endedSessionIds, now)
      await parts.revocations.record(tx, userId, null, now)
      return { user, endedSessionIds }
    })
  const reactivate = (userId: number, now: number) =>
    db.tx(async (tx) => {
      const user = userOrNull(await tx`UPDATE users SET deactivated_at = NULL WHERE id = ${userId} ${RETURNING_USER(tx)}`)
      if (!user) return 'missing' as const
      await parts.revocations.record(tx, userId, null, now)
      return { user, endedSessionIds: [] }
    })

  return {
    async createUser({ username, displayName, passwordHash, now, role = 'member', inviteToken }) {
      // Almost always some account exists: then one statement, which inserts only if it sees
      // one (so it is never the first). No row back: the name is taken, or the table looked
      // empty; the transaction below decides both.
      if (inviteToken === undefined) {
        const user = userOrNull(
          await db.run(
            (sql) => sql`INSERT INTO users (username, display_name, password_hash, created_at, role)
                         SELECT ${username}, ${displayName}, ${passwordHash}, ${now}, ${role} WHERE EXISTS (SELECT 1 FROM users)
                         ON CONFLICT (username) DO NOTHING ${RETURNING_USER(sql)}`,
          ),
        )
        if (user) return user
      }
      try {
        return await db.tx(async (tx) => {
          // Lock before the invite's row, in the one order every registration takes.
          const [seen] = await tx`SELECT EXISTS (SELECT 1 FROM users) AS any`
          if (!seen.any) await tx`SELECT pg_advisory_xact_lock(${FIRST_USER_LOCK})`
          // The use is taken first and rolled back with the insert when the name is taken.
          if (inviteToken !== undefined && !(await parts.invites.take(tx, inviteToken, now))) throw new InviteUnusableError()
          const user = await insertUser(tx, { username, displayName, passwordHash, now, role })
          if (!user && inviteToken !== undefined) throw new NameTaken()
          return user
        })
      } catch (error) {
        if (error instanceof NameTaken) return null
        throw error
      }
    },
    createBot: ({ username, displayName, webhookUrl, webhookSecret = null, tokenHash, now }) =>
      db.tx(async (tx) => {
        // A bot has no password: an empty hash matches none (login also refuses bots outright).
        const user = await insertUser(tx, { username, displayName, passwordHash: '', now, role: 'bot', webhookUrl, webhookSecret })
        if (user) await parts.sessions.create(tx, { userId: user.id, tokenHash, now, expiresAt: null, kind: 'token', name: 'bot' })
        return user
      }),
    async findCredentials(username) {
      const [row] = await db.run(
        (sql) => sql`SELECT ${userColumns(sql)}, u.password_hash AS "passwordHash" FROM users u WHERE u.username = ${username}`,
      )
      return row ? { user: toUser(row), passwordHash: row.passwordHash as string } : null
    },
    async getUser(id) {
      return userOrNull(await db.run((sql) => sql`SELECT ${userColumns(sql)} FROM users u WHERE u.id = ${id}`))
    },
    async findUserByUsername(username) {
      return userOrNull(await db.run((sql) => sql`SELECT ${userColumns(sql)} FROM users u WHERE u.username = ${username}`))
    },
    async searchUsers(prefix, limit) {
      const low = prefix.toLowerCase()
      limit = bounded(limit)
      // One round trip, two index ranges (each its own top `limit`), merged as SQLite's are.
      const rows = await db.run(
        (sql) => sql`(SELECT ${userColumns(sql)}, 0 AS by_name FROM users u WHERE ${byUsername(sql, low)} AND u.deactivated_at IS NULL
                      ORDER BY u.username LIMIT ${limit})
                     UNION ALL
                     (SELECT ${userColumns(sql)}, 1 AS by_name FROM users u WHERE ${byDisplayName(sql, low)} AND u.deactivated_at IS NULL
                      ORDER BY lower(u.display_name) COLLATE "C" LIMIT ${limit})`,
      )
      const found = new Map<number, UserRecord>()
      for (const row of rows) found.set(Number(row.id), toUser(row))
      return [...found.values()].sort((a, b) => (a.username < b.username ? -1 : 1)).slice(0, limit)
    },
    async listUsers({ prefix, afterId, limit }) {
      const low = prefix.toLowerCase()
      const rows = await db.run(
        (sql) => sql`SELECT ${userColumns(sql)} FROM users u
                     WHERE u.id > ${afterId} AND (${low} = '' OR (${byUsername(sql, low)}) OR (${byDisplayName(sql, low)}))
                     ORDER BY u.id LIMIT ${bounded(limit)}`,
      )
      return rows.map(toUser)
    },
    async activeUserIds(userIds) {
      if (userIds.length === 0) return new Set()
      const rows = await db.run((sql) => sql`SELECT id FROM users WHERE deactivated_at IS NULL AND id = ANY(${userIds}::int8[])`)
      return new Set(ids(rows))
    },
    updateDisplayName: (userId, displayName, now) =>
      db.tx(async (tx) => {
        const user = userOrNull(await tx`UPDATE users SET display_name = ${displayName} WHERE id = ${userId} ${RETURNING_USER(tx)}`)
        if (user) await parts.revocations.record(tx, userId, null, now)
        return user
      }),
    setRole: (userId, role, now) =>
      db.tx(async (tx) => {
        if (role !== 'admin') await lockAdmins(tx)
        const user = userOrNull(
          await tx`UPDATE users SET role = ${role} WHERE id = ${userId} AND role != 'bot'
                   AND (${role}::text = 'admin' OR role != 'admin' OR deactivated_at IS NOT NULL OR ${anotherAdmin(tx, userId)})
                   ${RETURNING_USER(tx)}`,
        )
        // No row changed: no such user, a bot (whose role stays), or the last active admin.
        if (!user) {
          const [row] = await tx`SELECT role FROM users WHERE id = ${userId}`
          return row?.role === 'admin' ? ('last-admin' as const) : ('missing' as const)
        }
        await parts.revocations.record(tx, userId, null, now)
        return user
      }),
    setDeactivated: (userId, deactivated, now) => (deactivated ? deactivate(userId, now) : reactivate(userId, now)),
    setPassword: (userId, passwordHash, keepSessionId, now) =>
      db.tx(async (tx) => {
        await tx`WITH links AS (DELETE FROM password_resets WHERE user_id = ${userId})
                 UPDATE users SET password_hash = ${passwordHash} WHERE id = ${userId}`
        const ended = await parts.sessions.endAll(tx, userId, keepSessionId, 'session')
        await parts.revocations.record(tx, userId, ended, now)
        return ended
      }),
  }
}

/** Rolls back an invite's use when the username turned out taken. */
class NameTaken extends Error {}
