/**
 * Search: GET /api/chat/search on the history database, one request at a time, as a user in
 * `readerRooms` of its rooms. Every seeded message reads `seeded message <k>: the quick brown
 * fox jumps over the lazy dog`, so its words are as common as a word can be (in every message)
 * and its number is rare (the message itself, and the few whose number starts with it).
 */
import type { SearchPlan } from '../plan'
import { seededRoom } from '../targets/target'
import { cpuMicros } from '../proc-stats'
import { random, time, WARM_UP } from './history'
import { progress, type Figures, type LoadContext } from './job'

const COMMON = ['quick', 'brown', 'fox', 'jumps', 'lazy', 'dog', 'seeded', 'message', 'Quick', 'LAZY']
/** The start of a common word: each stands for the one term it starts. */
const STARTS = ['qu', 'bro', 'jum', 'la', 'mess', 'see']

type Kind = 'common' | 'rare' | 'twoWords' | 'start' | 'oneRoom'
const KINDS: Kind[] = ['common', 'rare', 'twoWords', 'start', 'oneRoom']
const FIGURE: Record<Kind, string> = { common: 'Common', rare: 'Rare', twoWords: 'TwoWords', start: 'Start', oneRoom: 'OneRoom' }

export async function search({ target, base, pid }: LoadContext, plan: SearchPlan): Promise<Figures> {
  const reader = await target.historyReader(base, plan)
  const next = random(7)
  const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)]!
  /** A message number the reader can see: in one of its rooms. */
  const visibleNumber = () => {
    for (;;) {
      const k = 1 + Math.floor(next() * plan.messages)
      if (seededRoom(k, plan) <= plan.readerRooms) return k
    }
  }
  const queries: Record<Kind, () => { q: string; roomId?: number }> = {
    common: () => ({ q: pick(COMMON) }),
    rare: () => ({ q: String(visibleNumber()) }),
    twoWords: () => (next() < 0.5 ? { q: `${pick(COMMON)} ${pick(COMMON)}` } : { q: `${pick(COMMON)} ${visibleNumber()}` }),
    start: () => ({ q: pick(STARTS) }),
    oneRoom: () => ({ q: pick(COMMON), roomId: 1 + Math.floor(next() * plan.readerRooms) }),
  }

  const figures: Figures = { shortPages: 0 }
  for (const kind of KINDS) {
    progress(`HTTP search ${kind} x ${plan.samples}`)
    const cpuBefore = cpuMicros(pid)
    const samples = await time(plan.samples, async () => {
      const { q, roomId } = queries[kind]()
      const params = new URLSearchParams({ q, limit: String(plan.limit) })
      if (roomId !== undefined) params.set('roomId', String(roomId))
      const response = await fetch(`${base}/api/chat/search?${params}`, { headers: reader.headers })
      const hits = (await response.json()) as unknown[]
      if (!response.ok) throw new Error(`search ${kind} ${q}: ${response.status}`)
      // Every message holds the common words: a short page means the index missed messages.
      if ((kind === 'common' || kind === 'oneRoom') && hits.length < plan.limit) figures.shortPages!++
    })
    // Steadier than the latencies on a shared machine: what the server spent per query.
    figures[`cpu${FIGURE[kind]}Us`] = (cpuMicros(pid) - cpuBefore) / (WARM_UP + plan.samples)
    const { p50, p99 } = samples.percentiles()
    figures[`http${FIGURE[kind]}P50`] = p50
    figures[`http${FIGURE[kind]}P99`] = p99
  }
  return figures
}
