import { Elysia, t } from 'elysia'
import type { AuthPlugin } from '../auth/plugin'
import { errors } from '../common/model'
import { PushKey, SubscribeBody, UnsubscribeBody } from './model'
import type { PushService } from './service'

/** Web Push: the server's VAPID key and the caller's subscriptions (the sending is src/delivery). */
export function pushRoutes({ push, authPlugin }: { push: PushService; authPlugin: AuthPlugin }) {
  return new Elysia({ prefix: '/api/push', tags: ['push'] })
    .use(authPlugin)
    .get('/key', () => ({ publicKey: push.publicKey() }), {
      auth: true,
      response: { 200: PushKey, ...errors(401) },
      detail: { summary: "The server's VAPID public key", description: 'Made at the first start and kept in the database: the same on every instance.' },
    })
    .post(
      '/subscriptions',
      async ({ body, session, set }) => {
        await push.subscribe(session.user.id, body)
        set.status = 201
      },
      {
        auth: true,
        body: SubscribeBody,
        parse: 'application/json',
        response: { 201: t.Void(), ...errors(400, 401, 413, 415) },
        detail: {
          summary: 'Subscribe this browser to pushes',
          description:
            "The PushSubscription JSON. The caller is pushed a message they should be told about (their room's level) when none of their streams has been open for 60 s. An endpoint subscribed before (by anyone) now belongs to the caller. Endpoints must be https:// unless PUSH_ALLOW_HTTP=true.",
        },
      },
    )
    .delete(
      '/subscriptions',
      async ({ body, session, set }) => {
        await push.unsubscribe(session.user.id, body.endpoint)
        set.status = 204
      },
      {
        auth: true,
        body: UnsubscribeBody,
        parse: 'application/json',
        response: { 204: t.Void(), ...errors(400, 401, 413, 415) },
        detail: { summary: 'Unsubscribe', description: "Removes the caller's subscription with this endpoint; 204 also when there was none (idempotent)." },
      },
    )
}
