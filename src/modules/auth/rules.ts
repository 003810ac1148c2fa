import { badRequest } from '../../errors'
import { codePoints, isBlank } from '../common/text'

/** The account fields' rules, shared by registration, the account routes, admins and the CLI. */

const USERNAME_PATTERN = /^[a-z0-9_.-]{3,32}$/

/** Usernames are case-insensitive: stored lower-case. */
export function checkUsername(raw: string): string {
  const username = raw.trim().toLowerCase()
  if (!USERNAME_PATTERN.test(username)) throw badRequest('username: 3-32 characters of a-z, 0-9, _ . -')
  return username
}

export function checkPassword(field: string, password: string): void {
  const length = codePoints(password)
  if (length < 8 || length > 128) throw badRequest(`${field}: 8-128 characters`)
}

/** The display name as stored; `fallback` when absent. */
export function checkDisplayName(raw: string | undefined, fallback: string): string {
  const displayName = raw?.trim() ?? fallback
  if (isBlank(displayName) || codePoints(displayName) > 64) throw badRequest('displayName: 1-64 characters, not blank')
  return displayName
}

/** A random 256-bit token; only its SHA-256 is stored, so a leaked database opens no session. */
export const newToken = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url')
export const hashToken = (token: string) => new Bun.CryptoHasher('sha256').update(token).digest() as Uint8Array
