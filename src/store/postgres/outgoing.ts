import type { OutgoingCall } from '../store'
import { toUser, userColumns } from './accounts-rows'
import { bounded, num, numOrNull, type Database } from './database'
import type { OutgoingStore } from '../parts'

type Row = Record<string, unknown>

const toCall = (row: Row): OutgoingCall => ({
  id: num(row.id),
  kind: row.kind as OutgoingCall['kind'],
  targetId: num(row.target_id),
  messageId: num(row.message_id),
  roomId: num(row.room_id),
  createdAt: num(row.created_at),
  attempts: num(row.attempts),
})

/** Due rows read per claim for each call wanted, so targets at their share do not starve the page. */
const SCAN_PER_CALL = 8

/**
 * The delivery queue's rows (written by the trigger of schema/integrations.ts with each
 * message), worked by every instance at once.
 *
 * A claim is one statement: it locks the oldest due rows no other worker holds (FOR UPDATE
 * SKIP LOCKED: a row another claim is taking is passed over, not waited for), keeps each target
 * within its share, and moves the chosen ones' `due_at` to the lease and bumps `attempts`.
 * A row a concurrent claim took and committed while we waited is rechecked against
 * `due_at <= now` on its new version (READ COMMITTED) and drops out, so each call goes to one
 * worker until its lease runs out. Outcomes are fenced by `attempts`: a worker whose lease ran
 * out, and whose call another worker took over, changes nothing.
 */
export function createOutgoingStore(db: Database): OutgoingStore {
  return {
    async claimOutgoing({ now, leaseUntil, limit, perTarget, inFlight }) {
      const wanted = bounded(limit)
      if (wanted === 0 || perTarget <= 0) return []
      const targets = [...inFlight.keys()]
      const counts = targets.map((target) => Math.trunc(inFlight.get(target) ?? 0))
      const full = targets.filter((_, i) => counts[i]! >= perTarget)
      const rows: Row[] = await db.run(
        (sql) => sql`
          WITH candidates AS (
            SELECT id, kind, target_id, due_at FROM outgoing
            WHERE due_at <= ${now} AND NOT (kind || ':' || target_id = ANY(${full}::text[]))
            ORDER BY due_at, id LIMIT ${wanted * SCAN_PER_CALL}
            FOR UPDATE SKIP LOCKED
          ), ranked AS (
            SELECT c.id, c.due_at,
              row_number() OVER (PARTITION BY c.kind, c.target_id ORDER BY c.due_at, c.id) + coalesce(f.n, 0) AS place
            FROM candidates c
            LEFT JOIN unnest(${targets}::text[], ${counts}::int4[]) AS f (target, n) ON f.target = c.kind || ':' || c.target_id
          ), chosen AS (
            SELECT id FROM ranked WHERE place <= ${perTarget} ORDER BY due_at, id LIMIT ${wanted}
          )
          UPDATE outgoing o SET due_at = ${leaseUntil}, attempts = o.attempts + 1
          FROM chosen WHERE o.id = chosen.id
          RETURNING o.id, o.kind, o.target_id, o.message_id, o.room_id, o.created_at, o.attempts`,
      )
      return rows.map(toCall).sort((a, b) => a.id - b.id)
    },

    async finishOutgoing(id, attempts) {
      await db.run((sql) => sql`DELETE FROM outgoing WHERE id = ${id} AND attempts = ${attempts}`)
    },

    async retryOutgoing(id, attempts, dueAt) {
      await db.run((sql) => sql`UPDATE outgoing SET due_at = ${dueAt} WHERE id = ${id} AND attempts = ${attempts}`)
    },

    async outgoingBacklog() {
      const [row] = await db.run((sql) => sql`SELECT count(*) AS pending, min(created_at) AS oldest_at FROM outgoing`)
      return { pending: num(row.pending), oldestAt: numOrNull(row.oldest_at) }
    },

    async webhookOf(botId) {
      if (!Number.isSafeInteger(botId)) return null
      const [row] = await db.run(
        (sql) => sql`
          SELECT webhook_url, webhook_secret FROM users
          WHERE id = ${botId} AND role = 'bot' AND deactivated_at IS NULL AND webhook_url IS NOT NULL AND webhook_secret IS NOT NULL`,
      )
      return row ? { url: row.webhook_url as string, secret: row.webhook_secret as string } : null
    },

    async recordWebhookDelivery(botId, { at, ok, status, error }) {
      await db.run(
        (sql) => sql`
          INSERT INTO webhook_deliveries (bot_id, at, ok, status, error) VALUES (${botId}, ${at}, ${ok}, ${status}, ${error})
          ON CONFLICT (bot_id) DO UPDATE SET at = excluded.at, ok = excluded.ok, status = excluded.status, error = excluded.error`,
      )
    },

    async listBots(afterId, limit) {
      const rows: Row[] = await db.run(
        (sql) => sql`
          SELECT ${userColumns(sql)}, u.webhook_url, d.at, d.ok, d.status, d.error,
            (SELECT count(*) FROM outgoing o WHERE o.kind = 'webhook' AND o.target_id = u.id) AS pending
          FROM users u LEFT JOIN webhook_deliveries d ON d.bot_id = u.id
          WHERE u.role = 'bot' AND u.id > ${Math.trunc(afterId) || 0} ORDER BY u.id LIMIT ${bounded(limit)}`,
      )
      return rows.map((row) => ({
        user: toUser(row),
        webhookUrl: (row.webhook_url as string | null) ?? null,
        lastDelivery:
          row.at === null
            ? null
            : { at: num(row.at), ok: row.ok === true, status: numOrNull(row.status), error: (row.error as string | null) ?? null },
        pending: num(row.pending),
      }))
    },

    async serverKey(name, value) {
      // Two instances starting together: the insert that commits first wins; both get its value.
      // DO UPDATE (a no-op) locks and returns the winner's row even when it committed after this
      // statement's snapshot, where DO NOTHING and a second SELECT in it would see nothing.
      const [row] = await db.run(
        (sql) => sql`
          INSERT INTO server_keys (name, value) VALUES (${name}, ${value})
          ON CONFLICT (name) DO UPDATE SET value = server_keys.value RETURNING value`,
      )
      return row.value as string
    },
  }
}
