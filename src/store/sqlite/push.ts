import type { Database } from 'bun:sqlite'
import type { PushSubscriptionRecord } from '../store'
import { retryBusy, statement } from './database'
import type { PushStore } from '../parts'

/** Web Push subscriptions: one row per endpoint (a browser's push channel), owned by one user. */
export function createPushStore(db: Database): PushStore {
  const q = <T>(sql: string) => statement<T>(db, sql)
  // The same browser signed in as someone else: its endpoint now notifies the new user only.
  const save = q(
    `INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, created_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (endpoint) DO UPDATE SET user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth`,
  )
  const remove = q(`DELETE FROM push_subscriptions WHERE user_id = ? AND endpoint = ?`)
  const byId = q<PushSubscriptionRecord>(`SELECT id, user_id AS userId, endpoint, p256dh, auth FROM push_subscriptions WHERE id = ?`)
  const removeById = q(`DELETE FROM push_subscriptions WHERE id = ?`)

  return {
    async savePushSubscription({ userId, endpoint, p256dh, auth, now }) {
      await retryBusy(() => save.run(userId, endpoint, p256dh, auth, now))
    },
    async deletePushSubscription(userId, endpoint) {
      return (await retryBusy(() => remove.run(userId, endpoint))).changes > 0
    },
    async getPushSubscription(id) {
      return byId.get(id)
    },
    async removePushSubscription(id) {
      await retryBusy(() => removeById.run(id))
    },
  }
}
