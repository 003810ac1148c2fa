import webpush from 'web-push'
import { badRequest } from '../../errors'
import type { Store } from '../../store/store'

export interface VapidKeys {
  /** base64url of the uncompressed P-256 point (what a browser's applicationServerKey takes). */
  publicKey: string
  privateKey: string
}

const VAPID_KEY = 'vapid'
const ENDPOINT_MAX = 2048
/** base64url of a 65-byte P-256 point and a 16-byte secret. */
const P256DH = /^[A-Za-z0-9_-]{86,88}={0,2}$/
const AUTH = /^[A-Za-z0-9_-]{22,24}={0,2}$/

/**
 * The server's VAPID key pair: made at the first start and kept in the store, one for every
 * instance. Two instances starting together each make a pair, and the store keeps the first
 * committed (serverKey inserts only when none is there), so both sign with the same one.
 */
export async function loadVapidKeys(store: Store): Promise<VapidKeys> {
  const made = webpush.generateVAPIDKeys()
  return JSON.parse(await store.serverKey(VAPID_KEY, JSON.stringify(made))) as VapidKeys
}

export function createPushService({ store, keys, allowHttp, now = Date.now }: { store: Store; keys: VapidKeys; allowHttp: boolean; now?: () => number }) {
  return {
    publicKey: () => keys.publicKey,

    async subscribe(userId: number, input: { endpoint: string; keys: { p256dh: string; auth: string } }) {
      const endpoint = checkEndpoint(input.endpoint, allowHttp)
      if (!P256DH.test(input.keys.p256dh) || Buffer.from(input.keys.p256dh, 'base64url').length !== 65) {
        throw badRequest('keys.p256dh: must be the base64url of a P-256 public key (65 bytes)')
      }
      if (!AUTH.test(input.keys.auth) || Buffer.from(input.keys.auth, 'base64url').length !== 16) {
        throw badRequest('keys.auth: must be the base64url of a 16-byte secret')
      }
      await store.savePushSubscription({ userId, endpoint, p256dh: input.keys.p256dh, auth: input.keys.auth, now: now() })
    },

    /** Idempotent: a subscription already gone (a 410 removed it, another sign-out) is no error. */
    async unsubscribe(userId: number, endpoint: string) {
      await store.deletePushSubscription(userId, endpoint)
    },
  }
}

/** A push endpoint is a URL the server will POST to: https only, unless PUSH_ALLOW_HTTP. */
function checkEndpoint(raw: string, allowHttp: boolean): string {
  let url: URL
  try {
    url = new URL(raw)
  } catch {
    throw badRequest('endpoint: must be an https:// URL')
  }
  const allowed = url.protocol === 'https:' || (allowHttp && url.protocol === 'http:')
  if (!allowed) throw badRequest(allowHttp ? 'endpoint: must be an http:// or https:// URL' : 'endpoint: must be an https:// URL')
  if (url.username || url.password) throw badRequest('endpoint: must not carry credentials')
  if (raw.length > ENDPOINT_MAX) throw badRequest(`endpoint: at most ${ENDPOINT_MAX} characters`)
  return raw
}

export type PushService = ReturnType<typeof createPushService>
