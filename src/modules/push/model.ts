import { t } from 'elysia'

export const PushKey = t.Object({
  publicKey: t.String({ description: "the server's VAPID public key, base64url (a P-256 point): pushManager.subscribe's applicationServerKey" }),
})

/** A browser's PushSubscription JSON (`expirationTime` and other fields it adds are ignored). */
export const SubscribeBody = t.Object({
  endpoint: t.String({ minLength: 1, maxLength: 2048, description: 'https:// (http:// too when PUSH_ALLOW_HTTP=true)' }),
  keys: t.Object({
    p256dh: t.String({ maxLength: 128, description: "base64url of the browser's P-256 public key" }),
    auth: t.String({ maxLength: 64, description: 'base64url of the 16-byte auth secret' }),
  }),
  expirationTime: t.Optional(t.Union([t.Number(), t.Null()])),
})

export const UnsubscribeBody = t.Object({
  endpoint: t.String({ minLength: 1, maxLength: 2048 }),
})
