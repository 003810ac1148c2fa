/**
 * Ingest: posting loops as fast as the server answers, for a fixed time, while a few listeners
 * read the room; every accepted message must reach every listener exactly once.
 */
import { startDatabaseMeter } from '../database-cpu'
import type { IngestPlan } from '../plan'
import { startMeter } from '../proc-stats'
import { Samples, Tally } from '../stats'
import { connectPoster } from './http-poster'
import { progress, type Figures, type LoadContext } from './job'
import { benchContent, closeStreams, openStreams, readBenchContent } from './streams'

export async function ingest({ target, base, port, pid, database }: LoadContext, plan: IngestPlan): Promise<Figures> {
  const [listener, ...posters] = await target.users(base, plan.posterUsers + 1)
  const roomId = await target.createRoom(base, posters[0]!, [listener!, ...posters.slice(1)])
  const tallies = Array.from({ length: plan.listeners }, () => new Tally())
  const parsed = { seq: -1, sentAt: 0 }
  let delivered = 0

  const streams = await openStreams(plan.listeners, plan.listeners, i => ({
    port,
    path: `/api/chat/rooms/${roomId}/subscribe`,
    headers: listener!.headers,
    onMessage(_id, data) {
      readBenchContent(data, parsed)
      if (parsed.seq < 0) return
      tallies[i]!.add(parsed.seq)
      delivered++
    },
  }))
  try {
    progress(`${plan.posters} posters for ${plan.durationMs / 1000} s`)
    const path = `/api/chat/rooms/${roomId}/messages`
    const connections = await Promise.all(
      Array.from({ length: plan.posters }, (_, i) => connectPoster(port, posters[i % posters.length]!.headers)),
    )
    const latencies = new Samples()
    const accepted = new Tally()
    let acceptedCount = 0
    let failedPosts = 0
    let nextSeq = 0
    const stopDatabase = await startDatabaseMeter(database)
    const stop = startMeter(pid)
    const started = performance.now()
    const end = started + plan.durationMs

    // A refused post is counted and the loop goes on; a broken connection ends its loop.
    const poster = async (i: number) => {
      while (performance.now() < end) {
        const seq = nextSeq++
        const sentAt = performance.now()
        const status = await connections[i]!.post(path, JSON.stringify({ content: benchContent(seq, sentAt) })).catch(() => 0)
        latencies.push(performance.now() - sentAt)
        if (status === 201) {
          accepted.add(seq)
          acceptedCount++
        } else {
          failedPosts++
          if (status === 0) return
        }
      }
    }
    await Promise.all(Array.from({ length: plan.posters }, (_, i) => poster(i)))
    const elapsed = performance.now() - started

    const deadline = performance.now() + plan.drainMs
    while (delivered < acceptedCount * plan.listeners && performance.now() < deadline) await Bun.sleep(5)
    // Includes writing every message to the listeners: that is part of accepting it.
    const { serverCpuUs, serverCpuPercent, loadCpuPercent } = stop()
    const databaseUse = await stopDatabase?.()
    for (const connection of connections) connection.close()

    let missing = 0
    let duplicate = 0
    for (const tally of tallies) {
      const check = tally.check(seq => accepted.has(seq), nextSeq)
      missing += check.missing
      duplicate += check.duplicate
    }
    const latency = latencies.percentiles()
    return {
      acceptedPerSecond: acceptedCount / (elapsed / 1000),
      postP50: latency.p50,
      postP99: latency.p99,
      cpuPerMessageUs: serverCpuUs / acceptedCount,
      ...(databaseUse && {
        databaseCpuPerMessageUs: databaseUse.cpuUs / acceptedCount,
        totalCpuPerMessageUs: (serverCpuUs + databaseUse.cpuUs) / acceptedCount,
        transactionsPerMessage: databaseUse.transactions / acceptedCount,
      }),
      serverCpuPercent,
      loadCpuPercent,
      missing,
      duplicate,
      failedPosts,
    }
  } finally {
    closeStreams(streams)
  }
}
