/**
 * The browser's side of Web Push, made by the test: a subscription's own keys (an ECDH P-256
 * pair and a 16-byte auth secret), decryption of an `aes128gcm` push (RFC 8188 + RFC 8291) and
 * verification of its VAPID JWT (RFC 8292) against the server's public key, with node:crypto.
 */
import { createDecipheriv, createECDH, createHmac, createPublicKey, randomBytes, verify } from 'node:crypto'

export interface TestSubscription {
  endpoint: string
  keys: { p256dh: string; auth: string }
  /** The plaintext of a push this subscription received. */
  decrypt(body: Uint8Array): string
}

const hmac = (key: Uint8Array, ...data: Uint8Array[]) => {
  const h = createHmac('sha256', key)
  for (const d of data) h.update(d)
  return h.digest()
}
const text = (s: string) => Buffer.from(s, 'utf8')

export function newSubscription(endpoint: string): TestSubscription {
  const ecdh = createECDH('prime256v1')
  ecdh.generateKeys()
  const uaPublic = ecdh.getPublicKey()
  const authSecret = randomBytes(16)
  return {
    endpoint,
    keys: { p256dh: uaPublic.toString('base64url'), auth: authSecret.toString('base64url') },
    decrypt(body) {
      const data = Buffer.from(body)
      // RFC 8188 header: salt (16) | record size (4) | key id length (1) | key id (the sender's public key)
      const salt = data.subarray(0, 16)
      const idLength = data[20]!
      const asPublic = data.subarray(21, 21 + idLength)
      const ciphertext = data.subarray(21 + idLength)
      // RFC 8291 section 3.4: the input keying material from ECDH and the auth secret.
      const ecdhSecret = ecdh.computeSecret(asPublic)
      const prkKey = hmac(authSecret, ecdhSecret)
      const ikm = hmac(prkKey, text('WebPush: info\0'), uaPublic, asPublic, Buffer.from([1]))
      // RFC 8188 section 2.2-2.3: the content encryption key and the nonce.
      const prk = hmac(salt, ikm)
      const cek = hmac(prk, text('Content-Encoding: aes128gcm\0'), Buffer.from([1])).subarray(0, 16)
      const nonce = hmac(prk, text('Content-Encoding: nonce\0'), Buffer.from([1])).subarray(0, 12)
      const decipher = createDecipheriv('aes-128-gcm', cek, nonce)
      decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16))
      const padded = Buffer.concat([decipher.update(ciphertext.subarray(0, ciphertext.length - 16)), decipher.final()])
      // One record: the content, the last-record delimiter 0x02, then zero padding.
      let end = padded.length - 1
      while (end >= 0 && padded[end] === 0) end--
      if (padded[end] !== 2) throw new Error('not the last record of an aes128gcm body')
      return padded.subarray(0, end).toString('utf8')
    },
  }
}

/**
 * Checks `Authorization: vapid t=<JWT>, k=<key>`: k is the server's key, the JWT is ES256-signed
 * by it, names the endpoint's origin as its audience and expires within 24 h. Returns the claims.
 */
export function verifyVapid(authorization: string | null, serverPublicKey: string, endpoint: string) {
  const match = /^vapid t=([\w-]+\.[\w-]+\.[\w-]+), k=([\w-]+)$/.exec(authorization ?? '')
  if (!match) throw new Error(`not a VAPID authorization: ${authorization}`)
  const [, jwt, k] = match
  if (k !== serverPublicKey) throw new Error('the VAPID key is not the server key')
  const [header, claims, signature] = jwt!.split('.') as [string, string, string]
  const point = Buffer.from(serverPublicKey, 'base64url')
  const key = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: point.subarray(1, 33).toString('base64url'), y: point.subarray(33).toString('base64url') }, format: 'jwk' })
  const good = verify('sha256', Buffer.from(`${header}.${claims}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature, 'base64url'))
  if (!good) throw new Error('the VAPID signature does not verify')
  const parsedHeader = JSON.parse(Buffer.from(header, 'base64url').toString())
  const parsed = JSON.parse(Buffer.from(claims, 'base64url').toString()) as { aud: string; exp: number; sub: string }
  if (parsedHeader.alg !== 'ES256') throw new Error(`alg ${parsedHeader.alg}`)
  if (parsed.aud !== new URL(endpoint).origin) throw new Error(`aud ${parsed.aud}`)
  const now = Date.now() / 1000
  if (!(parsed.exp > now && parsed.exp <= now + 24 * 3600)) throw new Error(`exp ${parsed.exp}`)
  return parsed
}
