import type { PushSubscriptionRecord } from '../store'
import { num, type Database } from './database'
import type { PushStore } from '../parts'

/** Web Push subscriptions: one row per endpoint (a browser's push channel), owned by one user. */
export function createPushStore(db: Database): PushStore {
  return {
    async savePushSubscription({ userId, endpoint, p256dh, auth, now }) {
      // The same browser signed in as someone else: its endpoint now notifies the new user only.
      await db.run(
        (sql) => sql`
          INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, created_at) VALUES (${userId}, ${endpoint}, ${p256dh}, ${auth}, ${now})
          ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth`,
      )
    },
    async deletePushSubscription(userId, endpoint) {
      const result = await db.run((sql) => sql`DELETE FROM push_subscriptions WHERE user_id = ${userId} AND endpoint = ${endpoint}`)
      return result.count > 0
    },
    async getPushSubscription(id) {
      if (!Number.isSafeInteger(id)) return null
      const [row] = await db.run((sql) => sql`SELECT id, user_id, endpoint, p256dh, auth FROM push_subscriptions WHERE id = ${id}`)
      if (!row) return null
      return { id: num(row.id), userId: num(row.user_id), endpoint: row.endpoint, p256dh: row.p256dh, auth: row.auth } satisfies PushSubscriptionRecord
    },
    async removePushSubscription(id) {
      if (!Number.isSafeInteger(id)) return
      await db.run((sql) => sql`DELETE FROM push_subscriptions WHERE id = ${id}`)
    },
  }
}
