import type { Database } from 'bun:sqlite'
import type { OutgoingCall, UserRecord } from '../store'
import { bounded, retryBusy, statement, USER } from './database'
import type { OutgoingStore } from '../parts'

const CALL = `id, kind, target_id AS targetId, message_id AS messageId, room_id AS roomId, created_at AS createdAt, attempts`

/**
 * The delivery queue's rows (written by the triggers of migration 7 with each message). A claim
 * is one UPDATE guarded by `due_at <= now`: SQLite's single writer runs it alone, so of two
 * instances claiming together, each row goes to exactly one. Outcomes are fenced by `attempts`:
 * a worker whose lease ran out (and whose call another worker took over) changes nothing.
 */
export function createOutgoingStore(db: Database): OutgoingStore {
  const q = <T>(sql: string) => statement<T>(db, sql)
  // Candidates are read first, outside any write lock; the UPDATE's own `due_at <= now` decides.
  // Targets already at their share are skipped by the scan itself, so a deep backlog of one
  // slow endpoint costs only the index entries stepped over, never a place in the line.
  const due = q<{ id: number; target: string }>(
    `SELECT id, kind || ':' || target_id AS target FROM outgoing
     WHERE due_at <= ?1 AND (kind || ':' || target_id) NOT IN (SELECT value FROM json_each(?2))
     ORDER BY due_at LIMIT ?3`,
  )
  const claim = q<OutgoingCall>(
    `UPDATE outgoing SET due_at = ?1, attempts = attempts + 1
     WHERE id IN (SELECT value FROM json_each(?2)) AND due_at <= ?3 RETURNING ${CALL}`,
  )
  const finish = q(`DELETE FROM outgoing WHERE id = ? AND attempts = ?`)
  const retry = q(`UPDATE outgoing SET due_at = ? WHERE id = ? AND attempts = ?`)
  const backlog = q<{ pending: number; oldestAt: number | null }>(`SELECT count(*) AS pending, min(created_at) AS oldestAt FROM outgoing`)
  const webhook = q<{ url: string; secret: string }>(
    `SELECT webhook_url AS url, webhook_secret AS secret FROM users
     WHERE id = ? AND role = 'bot' AND deactivated_at IS NULL AND webhook_url IS NOT NULL AND webhook_secret IS NOT NULL`,
  )
  const recordDelivery = q(
    `INSERT INTO webhook_deliveries (bot_id, at, ok, status, error) VALUES (?1, ?2, ?3, ?4, ?5)
     ON CONFLICT (bot_id) DO UPDATE SET at = ?2, ok = ?3, status = ?4, error = ?5`,
  )
  const bots = q<UserRecord & { webhookUrl: string | null; at: number | null; ok: number | null; status: number | null; error: string | null; pending: number }>(
    `SELECT ${USER}, u.webhook_url AS webhookUrl, d.at, d.ok, d.status, d.error,
       (SELECT count(*) FROM outgoing o WHERE o.kind = 'webhook' AND o.target_id = u.id) AS pending
     FROM users u LEFT JOIN webhook_deliveries d ON d.bot_id = u.id
     WHERE u.role = 'bot' AND u.id > ? ORDER BY u.id LIMIT ?`,
  )
  const insertKey = q(`INSERT INTO server_keys (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`)
  const readKey = q<{ value: string }>(`SELECT value FROM server_keys WHERE name = ?`)

  return {
    async claimOutgoing({ now, leaseUntil, limit, perTarget, inFlight }) {
      const full = [...inFlight].filter(([, n]) => n >= perTarget).map(([target]) => target)
      // Read a few times the page, then keep each target within its share.
      const taken = new Map(inFlight)
      const ids: number[] = []
      for (const { id, target } of due.all(now, JSON.stringify(full), bounded(limit * 8))) {
        const n = taken.get(target) ?? 0
        if (n >= perTarget) continue
        taken.set(target, n + 1)
        ids.push(id)
        if (ids.length >= limit) break
      }
      if (ids.length === 0) return []
      // The claim's RETURNING is stepped to the end by .all(): its autocommit commits at once.
      const claimed = await retryBusy(() => claim.all(leaseUntil, JSON.stringify(ids), now))
      return claimed.sort((a, b) => a.id - b.id)
    },
    async finishOutgoing(id, attempts) {
      await retryBusy(() => finish.run(id, attempts))
    },
    async retryOutgoing(id, attempts, dueAt) {
      await retryBusy(() => retry.run(dueAt, id, attempts))
    },
    async outgoingBacklog() {
      return backlog.get()!
    },
    async webhookOf(botId) {
      return webhook.get(botId)
    },
    async recordWebhookDelivery(botId, { at, ok, status, error }) {
      await retryBusy(() => recordDelivery.run(botId, at, ok ? 1 : 0, status, error))
    },
    async listBots(afterId, limit) {
      return bots.all(afterId, bounded(limit)).map(({ webhookUrl, at, ok, status, error, pending, ...user }) => ({
        user,
        webhookUrl,
        lastDelivery: at === null ? null : { at, ok: ok === 1, status, error },
        pending,
      }))
    },
    async serverKey(name, value) {
      // Two instances starting together: the insert that commits first wins; both read it back.
      await retryBusy(() => insertKey.run(name, value))
      return readKey.get(name)!.value
    },
  }
}
