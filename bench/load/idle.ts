/** Idle: many open streams doing nothing; what each costs the server in memory, and how fast they open. */
import type { IdlePlan } from '../plan'
import { memoryKiB } from '../proc-stats'
import { progress, type Figures, type LoadContext } from './job'
import { closeStreams, openStreams } from './streams'

const OPEN_CONCURRENCY = 100
/** Streams opened and closed before measuring, so first-use allocations are not billed per stream. */
const WARM_UP = 50

export async function idle({ target, base, port, pid }: LoadContext, plan: IdlePlan): Promise<Figures> {
  const users = await target.users(base, Math.ceil(plan.streams / plan.streamsPerUser) + 1)
  const roomId = await target.createRoom(base, users[0]!, users.slice(1))
  const stream = (i: number) => ({
    port,
    path: `/api/chat/rooms/${roomId}/subscribe`,
    headers: users[1 + (i % (users.length - 1))]!.headers,
  })
  closeStreams(await openStreams(WARM_UP, OPEN_CONCURRENCY, stream))
  await Bun.sleep(plan.settleMs)

  const before = memoryKiB(pid).rss
  progress(`opening ${plan.streams} streams`)
  const started = performance.now()
  const streams = await openStreams(plan.streams, OPEN_CONCURRENCY, stream)
  const openMs = performance.now() - started
  let dropped = 0
  let closing = false
  for (const open of streams) void open.closed.then(() => void (closing || dropped++))
  try {
    await Bun.sleep(plan.settleMs)
    const after = memoryKiB(pid).rss
    return { rssPerStreamKiB: (after - before) / plan.streams, openMs, dropped }
  } finally {
    closing = true
    closeStreams(streams)
  }
}
