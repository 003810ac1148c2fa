import type { Presence } from './bus'
import { checkRedisUrl, DEFAULT_HEARTBEAT_MS, type Log, noLog, openRedisLink } from './redis-client'

/**
 * Presence across instances. Per user a sorted set `chat:presence:<userId>`: member = the
 * instanceId holding at least one of the user's streams, score = when that claim expires (epoch
 * ms). An instance adds itself at the user's first local stream, removes itself at the last,
 * and renews every claim every `refreshMs`; a dead instance's claims simply run out after
 * `ttlMs`. Expiry compares the writer's clock with the reader's: instances need clocks within
 * a few seconds of each other, which NTP gives.
 *
 * When a user's last stream on an instance closes, `chat:presence-seen:<userId>` keeps the time
 * for `recentMs`: what `seenSince` reads besides the live claims (an instance that dies counts
 * its users as seen until their claims run out).
 *
 * The local stream counts are the truth for this instance: online() always counts them, falls
 * back to them alone when Redis does not answer in time, and they are announced again after a
 * reconnect.
 */

const KEY_PREFIX = 'chat:presence:'
const SEEN_PREFIX = 'chat:presence-seen:'
/** How long a closed stream is remembered: Web Push's "no stream for 60 s". */
const DEFAULT_RECENT_MS = 60_000
/** Within the contract's 30 s for a dead instance, with room for one missed refresh. */
const DEFAULT_TTL_MS = 25_000
const DEFAULT_REFRESH_MS = 10_000
const DEFAULT_QUERY_TIMEOUT_MS = 300
const CLOSE_TIMEOUT_MS = 300

export interface RedisPresenceOptions {
  url: string
  instanceId: string
  log?: Log
  /** How long a claim lives unless renewed: the bound on a dead instance's users staying online. */
  ttlMs?: number
  /** How often this instance renews its claims; well under ttlMs. */
  refreshMs?: number
  /** How long online() waits for Redis before answering from local knowledge. */
  queryTimeoutMs?: number
  heartbeatMs?: number
  /** How far back `seenSince` can look. */
  recentMs?: number
}

export function createRedisPresence(options: RedisPresenceOptions): Presence {
  checkRedisUrl(options.url)
  if (!options.instanceId) throw new Error('createRedisPresence: instanceId must not be empty')
  const { instanceId } = options
  const log = options.log ?? noLog
  const ttlMs = options.ttlMs ?? DEFAULT_TTL_MS
  const refreshMs = options.refreshMs ?? DEFAULT_REFRESH_MS
  const queryTimeoutMs = options.queryTimeoutMs ?? DEFAULT_QUERY_TIMEOUT_MS
  const recentMs = options.recentMs ?? DEFAULT_RECENT_MS
  if (!(refreshMs > 0 && refreshMs < ttlMs)) {
    throw new Error(`createRedisPresence: refreshMs (${refreshMs}) must be positive and below ttlMs (${ttlMs})`)
  }

  /** Open streams per user on this instance. */
  const local = new Map<number, number>()
  /** Users who left this instance while their removal could not reach Redis. */
  const unannouncedLeaves = new Set<number>()

  const redis = openRedisLink({
    url: options.url,
    name: 'presence',
    instanceId,
    log,
    heartbeatMs: options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS,
    onReady: () => announce(),
    onLost: () => {},
  })
  const refresher = setInterval(() => announce(), refreshMs)
  refresher.unref()

  const key = (userId: number) => KEY_PREFIX + userId

  /** Renews every local claim and sends the removals Redis missed; trims dead instances' claims. */
  function announce() {
    if (!redis.ready() || (local.size === 0 && unannouncedLeaves.size === 0)) return
    const now = Date.now()
    const pipeline = redis.client.pipeline()
    const leaves = [...unannouncedLeaves]
    unannouncedLeaves.clear()
    for (const userId of leaves) pipeline.zrem(key(userId), instanceId)
    for (const userId of local.keys()) {
      pipeline.zadd(key(userId), now + ttlMs, instanceId)
      pipeline.zremrangebyscore(key(userId), '-inf', now)
      // The key outlives its last claim by nothing: no instance renewing it means no one online.
      pipeline.pexpire(key(userId), ttlMs)
    }
    pipeline.exec().catch((err) => {
      for (const userId of leaves) if (!local.has(userId)) unannouncedLeaves.add(userId)
      log('debug', 'presence refresh failed', { error: String(err) })
    })
  }

  function claim(userId: number) {
    if (!redis.ready()) return
    redis.client
      .pipeline()
      .zadd(key(userId), Date.now() + ttlMs, instanceId)
      .pexpire(key(userId), ttlMs)
      .exec()
      .catch(() => {})
  }

  /** The user was seen until now (best effort: a lost write only makes them away sooner). */
  function seen(userIds: Iterable<number>) {
    if (!redis.ready() || recentMs <= 0) return
    const pipeline = redis.client.pipeline()
    const now = Date.now()
    for (const userId of userIds) pipeline.set(SEEN_PREFIX + userId, now, 'PX', recentMs)
    pipeline.exec().catch(() => {})
  }

  function release(userId: number) {
    seen([userId])
    if (!redis.ready()) {
      unannouncedLeaves.add(userId)
      return
    }
    redis.client.zrem(key(userId), instanceId).catch(() => {
      if (!local.has(userId)) unannouncedLeaves.add(userId)
    })
  }

  /** Resolves with the per-command replies, or null when Redis failed or was too slow. */
  function withinTimeout<T>(promise: Promise<T>, ms: number): Promise<T | null> {
    let timer: Timer | undefined
    return Promise.race([
      promise.catch(() => null),
      new Promise<null>((resolve) => (timer = setTimeout(resolve, ms, null))),
    ]).finally(() => clearTimeout(timer))
  }

  return {
    connect(userId) {
      const count = (local.get(userId) ?? 0) + 1
      local.set(userId, count)
      if (count > 1) return
      unannouncedLeaves.delete(userId)
      claim(userId)
    },

    disconnect(userId) {
      const count = local.get(userId)
      if (count === undefined) return
      if (count > 1) {
        local.set(userId, count - 1)
        return
      }
      local.delete(userId)
      release(userId)
    },

    async online(userIds) {
      const result = new Set(userIds.filter((id) => local.has(id)))
      const remote = [...new Set(userIds.filter((id) => !local.has(id)))]
      if (remote.length === 0 || !redis.ready()) return result
      const pipeline = redis.client.pipeline()
      const now = Date.now()
      for (const userId of remote) pipeline.zcount(key(userId), `(${now}`, '+inf')
      const replies = await withinTimeout(pipeline.exec(), queryTimeoutMs)
      if (!replies) {
        log('debug', 'presence query failed or timed out; answering from local streams', { users: remote.length })
        return result
      }
      replies.forEach(([err, count], i) => {
        if (!err && Number(count) > 0) result.add(remote[i]!)
      })
      return result
    },

    async seenSince(userIds, since) {
      const result = new Set(userIds.filter((id) => local.has(id)))
      const remote = [...new Set(userIds.filter((id) => !local.has(id)))]
      if (remote.length === 0 || !redis.ready()) return result
      const pipeline = redis.client.pipeline()
      for (const userId of remote) pipeline.zcount(key(userId), since, '+inf').get(SEEN_PREFIX + userId)
      const replies = await withinTimeout(pipeline.exec(), queryTimeoutMs)
      remote.forEach((userId, i) => {
        const [claimError, claims] = replies?.[2 * i] ?? [null, 0]
        const [, closedAt] = replies?.[2 * i + 1] ?? [null, null]
        if ((!claimError && Number(claims) > 0) || Number(closedAt ?? -Infinity) >= since) result.add(userId)
      })
      return result
    },

    async close() {
      clearInterval(refresher)
      if (redis.ready() && local.size > 0) {
        seen(local.keys())
        const pipeline = redis.client.pipeline()
        for (const userId of local.keys()) pipeline.zrem(key(userId), instanceId)
        await withinTimeout(pipeline.exec(), CLOSE_TIMEOUT_MS)
      }
      local.clear()
      unannouncedLeaves.clear()
      await redis.close()
    },
  }
}
