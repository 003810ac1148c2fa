import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createRoom, isAscendingUnique, newUser, openStream, post, type SseStream, type TestUser } from '../helpers'
import { type Cluster, startCluster } from '../support/cluster'
import { findRedisServer } from '../support/redis-server'

const hasRedis = findRedisServer() !== null
const MESSAGES = 300
const RATE_PER_SECOND = 100

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!

describe.skipIf(!hasRedis)('scale-out: cross-instance delivery latency', () => {
  let cluster: Cluster
  let poster: TestUser, reader: TestUser
  let roomId: number
  let stream: SseStream

  beforeAll(async () => {
    cluster = await startCluster(2)
    ;[poster, reader] = await Promise.all([newUser(cluster.url(0), 'lat'), newUser(cluster.url(1), 'lat')])
    roomId = (await createRoom(cluster.url(0), poster, { participantIds: [reader.id] })).id
    stream = await openStream(cluster.url(1), `/api/chat/rooms/${roomId}/subscribe`, reader.token)
  }, 30_000)
  afterAll(async () => {
    stream?.close()
    await cluster?.stop()
  })

  it(`posted on A at ${RATE_PER_SECOND}/s, read from a stream on B: p50 well under the 1 s safety poll`, async () => {
    const [a] = [cluster.url(0)]
    // Warm-up: connections open, code paths compiled, on both sides.
    for (let i = 0; i < 5; i++) {
      const sent = await post(a, poster, roomId, `warm-up ${i}`)
      await stream.next((e) => e.event === 'message' && e.id === String(sent.id))
    }
    const firstId = stream.messageIds().at(-1)!

    const sentAt = new Map<string, number>()
    const arrivals: { content: string; at: number }[] = []
    const reading = (async () => {
      while (arrivals.length < MESSAGES) {
        const event = await stream.next((e) => e.event === 'message', 10_000)
        arrivals.push({ content: event.json.content, at: performance.now() })
      }
    })()
    const posts: Promise<unknown>[] = []
    const start = performance.now()
    for (let i = 0; i < MESSAGES; i++) {
      // Pacing an open-loop load (a fixed rate, whatever the answers), not waiting for a state.
      await Bun.sleep(Math.max(0, start + (i * 1000) / RATE_PER_SECOND - performance.now()))
      const content = `latency ${i}`
      sentAt.set(content, performance.now())
      posts.push(post(a, poster, roomId, content))
    }
    await Promise.all(posts)
    await reading

    const latencies = arrivals.map(({ content, at }) => at - sentAt.get(content)!).sort((x, y) => x - y)
    const [p50, p99, max] = [percentile(latencies, 50), percentile(latencies, 99), latencies.at(-1)!]
    console.log(
      `[scale-out] cross-instance latency (POST on A -> event read on B, ${MESSAGES} messages at ${RATE_PER_SECOND}/s): ` +
        `p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, max ${max.toFixed(1)} ms`,
    )
    const ids = stream.messageIds().filter((id) => id > firstId)
    expect(ids).toHaveLength(MESSAGES)
    expect(isAscendingUnique(ids)).toBe(true)
    expect(new Set(arrivals.map((a) => a.content)).size).toBe(MESSAGES)
    // Delivered by the bus: were B waiting for its 1 s safety poll, the median would be ~500 ms.
    expect(p50).toBeLessThan(250)
  })
})
