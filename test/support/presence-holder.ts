/**
 * A stand-in for a server instance that holds one user's stream and then dies without closing:
 * the test SIGKILLs this process. Usage: bun presence-holder.ts <redisUrl> <instanceId> <userId>
 */
import { createRedisPresence } from '../../src/bus/redis-presence'

const [url, instanceId, userId] = process.argv.slice(2)
if (!url || !instanceId || !userId) throw new Error('usage: presence-holder.ts <redisUrl> <instanceId> <userId>')
const presence = createRedisPresence({ url, instanceId, ttlMs: 1_500, refreshMs: 500 })
presence.connect(Number(userId))
// Kept alive until killed, even while Redis is away.
setInterval(() => {}, 60_000)
