/**
 * Token buckets per key: `perMinute` tokens, refilled continuously, so a user may burst up to a
 * minute's allowance and then sustains perMinute / 60 per second. In memory, per instance.
 */
export function createRateLimiter(perMinute: number, now: () => number = Date.now) {
  const buckets = new Map<number | string, { tokens: number; at: number }>()
  const refillPerMs = perMinute / 60_000

  // Full buckets carry no information: drop them now and then so the map stays small.
  let sweptAt = now()
  function sweep(at: number) {
    if (at - sweptAt < 60_000) return
    sweptAt = at
    for (const [key, b] of buckets) if (b.tokens + (at - b.at) * refillPerMs >= perMinute) buckets.delete(key)
  }

  return {
    /** Takes one token: 0 when allowed, else the seconds to wait before one is free. */
    take(key: number | string): number {
      if (perMinute <= 0) return 0
      const at = now()
      sweep(at)
      const bucket = buckets.get(key) ?? { tokens: perMinute, at }
      bucket.tokens = Math.min(perMinute, bucket.tokens + (at - bucket.at) * refillPerMs)
      bucket.at = at
      buckets.set(key, bucket)
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1
        return 0
      }
      return Math.max(1, Math.ceil((1 - bucket.tokens) / refillPerMs / 1000))
    },
  }
}
