import { isIP } from 'node:net'

/** What Elysia's context calls `server` (null when a request is handled without one). */
export type PeerSource = { requestIP(request: Request): { address: string } | null } | null

/** Stands for every request whose peer is unknown (no socket): they share one limit. */
const UNKNOWN = 'unknown'

/**
 * The address a request comes from: the socket's peer, or, only when the operator says a
 * reverse proxy sits in front (TRUST_PROXY), the first X-Forwarded-For hop. Without that
 * setting the header is ignored: anyone can send it, and it must not dodge a limit.
 * A first hop that is not an IP address (a proxy that passes garbage through) falls back to
 * the peer rather than becoming a key an attacker can vary at will.
 */
export function clientAddress(request: Request, server: PeerSource, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = request.headers.get('x-forwarded-for')
    const first = forwarded === null ? null : bareAddress(forwarded.split(',')[0]!.trim())
    if (first !== null) return first
  }
  const peer = server?.requestIP(request)?.address
  return peer ? (bareAddress(peer) ?? peer) : UNKNOWN
}

/** An IP address without port or brackets, IPv4-mapped IPv6 as IPv4; null when not one. */
function bareAddress(raw: string): string | null {
  let address = raw
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(address)
  if (bracketed) address = bracketed[1]!
  else if (/^[\d.]+:\d+$/.test(address)) address = address.slice(0, address.lastIndexOf(':'))
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped) address = mapped[1]!
  return isIP(address) ? address.toLowerCase() : null
}

/**
 * The key a per-address limit counts under: an IPv4 address as it is, an IPv6 address by its
 * /64 network, since one subscriber usually holds a whole /64 and could otherwise take a fresh
 * address for every attempt.
 */
export function addressKey(address: string): string {
  if (isIP(address) !== 6) return address
  return `${expandIPv6(address).slice(0, 4).join(':')}::/64`
}

function expandIPv6(address: string): string[] {
  const [head, tail] = address.split('::') as [string, string | undefined]
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  // An embedded IPv4 tail (::ffff:1.2.3.4 forms other than the mapped one) takes two groups.
  const last = right.at(-1) ?? left.at(-1)
  const groups = last?.includes('.') ? 7 : 8
  const middle = tail === undefined ? [] : Array<string>(groups - left.length - right.length).fill('0')
  return [...left, ...middle, ...right].map((group) => (group.includes('.') ? group : group.padStart(4, '0')))
}
