/**
 * Fan-out: many subscribers in one room, requests sent on a fixed schedule, each of which the
 * server delivers to every subscriber. Every delivery's latency is request sent -> event read
 * (the send time rides in the event's data); every subscriber counts what it got, so a missing
 * or doubled delivery shows.
 *
 * Two scenarios share it: `fanout` posts new messages (`message` events); `changes` edits
 * messages and adds reactions to them (`message-updated` events), so its CPU per delivery
 * reads against fanout's of the same run.
 */
import { startDatabaseMeter } from '../database-cpu'
import type { FanoutPlan } from '../plan'
import { memoryKiB, startMeter } from '../proc-stats'
import { Samples, Tally } from '../stats'
import type { Identity } from '../targets/target'
import { connectPosterPool, type Poster } from './http-poster'
import { progress, type Figures, type LoadContext } from './job'
import { benchContent, benchReaction, closeStreams, openStreams, readBenchContent, readBenchUpdate } from './streams'

const OPEN_CONCURRENCY = 100
/** Connections for the requests, enough that one rarely waits for another's answer. */
const POST_CONNECTIONS = 8

/** What one scenario sends and how its subscribers read it. */
interface Workload {
  /** The SSE event type that carries a delivery. */
  event: string
  /** How many requests, and what the request `seq` sent at `sentAt` is. */
  count: number
  send(posts: Poster, seq: number, sentAt: number): Promise<number>
  /** Fills `into` with the seq and send time an event's data carries (seq -1: not ours). */
  read(data: string, into: { seq: number; sentAt: number }): void
}

export async function fanout(context: LoadContext, plan: FanoutPlan): Promise<Figures> {
  return fanOut(context, plan, async (_poster, roomId) => {
    const path = `/api/chat/rooms/${roomId}/messages`
    return {
      event: 'message',
      count: plan.messages,
      send: (posts, seq, sentAt) => posts.post(path, JSON.stringify({ content: benchContent(seq, sentAt) })),
      read: readBenchContent,
    }
  })
}

/**
 * Edits (even seqs) and reactions (odd seqs), each to a message of its own: an event carries the
 * message as it is when the pump reads it, so two quick changes to one message could both show
 * the later one, and the tally could no longer tell them apart.
 */
export async function changes(context: LoadContext, plan: FanoutPlan): Promise<Figures> {
  return fanOut(context, plan, async (poster, roomId) => {
    const path = `/api/chat/rooms/${roomId}/messages`
    const ids: number[] = []
    for (let i = 0; i < plan.messages; i++) {
      const res = await fetch(`${context.base}${path}`, {
        method: 'POST',
        headers: { ...poster.headers, 'content-type': 'application/json' },
        body: JSON.stringify({ content: `target ${i}` }),
      })
      if (res.status !== 201) throw new Error(`seeding the messages to change: ${res.status} ${await res.text()}`)
      ids.push(((await res.json()) as { id: number }).id)
    }
    return {
      event: 'message-updated',
      count: plan.messages,
      send(posts, seq, sentAt) {
        const message = `${path}/${ids[seq]}`
        if (seq % 2 === 0) return posts.send('PATCH', message, JSON.stringify({ content: benchContent(seq, sentAt) }))
        return posts.send('PUT', `${message}/reactions/${encodeURIComponent(benchReaction(seq, sentAt))}`)
      },
      read: readBenchUpdate,
    }
  })
}

async function fanOut(
  { target, base, port, pid, database }: LoadContext,
  plan: FanoutPlan,
  prepare: (poster: Identity, roomId: number) => Promise<Workload>,
): Promise<Figures> {
  const [poster, ...readers] = await target.users(base, Math.ceil(plan.subscribers / plan.streamsPerUser) + 1)
  const roomId = await target.createRoom(base, poster!, readers)
  const work = await prepare(poster!, roomId)
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
    event: work.event,
    onMessage(_id, data, receivedAt) {
      work.read(data, parsed)
      if (parsed.seq < 0) return
      tallies[i]!.add(parsed.seq)
      latencies.push(receivedAt - parsed.sentAt)
      delivered++
      lastDelivery = receivedAt
    },
  }))
  try {
    progress(`sending ${work.count} ${work.event === 'message' ? 'messages' : 'changes'} at ${plan.rate}/s`)
    const posts = await connectPosterPool(port, poster!.headers, POST_CONNECTIONS)
    const accepted = new Tally()
    let failedPosts = 0
    const stopDatabase = await startDatabaseMeter(database)
    const stop = startMeter(pid)
    const started = performance.now()
    const answers: Promise<void>[] = []
    for (let seq = 0; seq < work.count; seq++) {
      const wait = started + (seq * 1000) / plan.rate - performance.now()
      if (wait > 0) await Bun.sleep(wait)
      answers.push(
        work.send(posts, seq, performance.now()).then(
          status => void (status === 201 || status === 200 ? accepted.add(seq) : failedPosts++),
          () => void failedPosts++,
        ),
      )
    }
    await Promise.all(answers)
    posts.close()
    const sent = work.count - failedPosts
    const deadline = performance.now() + plan.drainMs
    while (delivered < sent * plan.subscribers && performance.now() < deadline) await Bun.sleep(5)
    const { serverCpuUs, serverCpuPercent, loadCpuPercent } = stop()
    const databaseUse = await stopDatabase?.()

    let missing = 0
    let duplicate = 0
    for (const tally of tallies) {
      const check = tally.check(seq => accepted.has(seq), work.count)
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
      cpuPerMessageUs: serverCpuUs / sent,
      ...(databaseUse && {
        databaseCpuPerMessageUs: databaseUse.cpuUs / sent,
        totalCpuPerDeliveryUs: (serverCpuUs + databaseUse.cpuUs) / delivered,
        transactionsPerMessage: databaseUse.transactions / sent,
      }),
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
