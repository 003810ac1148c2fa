/**
 * Fan-out: many subscribers in one room, messages posted on a fixed schedule. Every delivery's
 * latency is post sent -> event read (the send time rides in the content); every subscriber
 * counts what it got, so a missing or doubled delivery shows.
 */
import type { FanoutPlan } from '../plan'
import { memoryKiB, startMeter } from '../proc-stats'
import { Samples, Tally } from '../stats'
import { connectPosterPool } from './http-poster'
import { progress, type Figures, type LoadContext } from './job'
import { benchContent, closeStreams, openStreams, readBenchContent } from './streams'

const OPEN_CONCURRENCY = 100
/** Connections for the posts, enough that one rarely waits for another's answer. */
const POST_CONNECTIONS = 8

export async function fanout({ target, base, port, pid }: LoadContext, plan: FanoutPlan): Promise<Figures> {
  const [poster, ...readers] = await target.users(base, Math.ceil(plan.subscribers / plan.streamsPerUser) + 1)
  const roomId = await target.createRoom(base, poster!, readers)
  const tallies = Array.from({ length: plan.subscribers }, () => new Tally())
  const latencies = new Samples()
  const parsed = { seq: -1, sentAt: 0 }
  let delivered = 0
  let lastDelivery = 0

  progress(`opening ${plan.subscribers} streams`)
  const streams = await openStreams(plan.subscribers, OPEN_CONCURRENCY, i => ({
    port,
    path: `/api/chat/rooms/${roomId}/subscribe`,
    headers: readers[i % readers.length]!.headers,
    onMessage(_id, data, receivedAt) {
      readBenchContent(data, parsed)
      if (parsed.seq < 0) return
      tallies[i]!.add(parsed.seq)
      latencies.push(receivedAt - parsed.sentAt)
      delivered++
      lastDelivery = receivedAt
    },
  }))
  try {
    progress(`posting ${plan.messages} messages at ${plan.rate}/s`)
    const path = `/api/chat/rooms/${roomId}/messages`
    const posts = await connectPosterPool(port, poster!.headers, POST_CONNECTIONS)
    const accepted = new Tally()
    let failedPosts = 0
    const stop = startMeter(pid)
    const started = performance.now()
    const answers: Promise<void>[] = []
    for (let seq = 0; seq < plan.messages; seq++) {
      const wait = started + (seq * 1000) / plan.rate - performance.now()
      if (wait > 0) await Bun.sleep(wait)
      answers.push(
        posts.post(path, JSON.stringify({ content: benchContent(seq, performance.now()) })).then(
          status => void (status === 201 ? accepted.add(seq) : failedPosts++),
          () => void failedPosts++,
        ),
      )
    }
    await Promise.all(answers)
    posts.close()
    const messages = plan.messages - failedPosts
    const deadline = performance.now() + plan.drainMs
    while (delivered < messages * plan.subscribers && performance.now() < deadline) await Bun.sleep(5)
    const { serverCpuUs, serverCpuPercent, loadCpuPercent } = stop()

    let missing = 0
    let duplicate = 0
    for (const tally of tallies) {
      const check = tally.check(seq => accepted.has(seq), plan.messages)
      missing += check.missing
      duplicate += check.duplicate
    }
    const latency = latencies.percentiles()
    return {
      deliveriesPerSecond: delivered / ((lastDelivery - started) / 1000),
      latencyP50: latency.p50,
      latencyP95: latency.p95,
      latencyP99: latency.p99,
      latencyMax: latency.max,
      cpuPerDeliveryUs: serverCpuUs / delivered,
      cpuPerMessageUs: serverCpuUs / messages,
      peakRssMiB: memoryKiB(pid).peak / 1024,
      missing,
      duplicate,
      failedPosts,
      serverCpuPercent,
      loadCpuPercent,
    }
  } finally {
    closeStreams(streams)
  }
}
