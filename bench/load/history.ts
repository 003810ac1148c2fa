/**
 * History: pages of a big database over HTTP (newest, scrolling back, catching up) and the
 * room list, one request at a time; then the same queries in-process against the file, to
 * split the time between the database and the HTTP layer.
 */
import type { HistoryPlan } from '../plan'
import { Samples } from '../stats'
import type { HistoryQueries } from '../targets/target'
import { progress, type Figures, type LoadContext } from './job'

export const WARM_UP = 50

/** mulberry32: the same rooms and cursors for every target, run after run. */
export function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type Kind = 'newest' | 'before' | 'after' | 'rooms'
const KINDS: Kind[] = ['newest', 'before', 'after', 'rooms']
const FIGURE: Record<Kind, string> = { newest: 'Newest', before: 'Before', after: 'After', rooms: 'Rooms' }

/** A room and a message id in it, drawn the same way for every kind of query. */
function cursors(plan: HistoryPlan) {
  const next = random(42)
  const perRoom = Math.floor(plan.messages / plan.rooms)
  return () => {
    const room = 1 + Math.floor(next() * plan.rooms)
    return { room, id: room + plan.rooms * Math.floor(next() * perRoom) }
  }
}

export async function time(count: number, query: () => Promise<unknown>): Promise<Samples> {
  for (let i = 0; i < WARM_UP; i++) await query()
  const samples = new Samples()
  for (let i = 0; i < count; i++) {
    const started = performance.now()
    await query()
    samples.push(performance.now() - started)
  }
  return samples
}

export async function history({ target, base, database }: LoadContext, plan: HistoryPlan): Promise<Figures> {
  const reader = await target.historyReader(base, plan)
  const figures: Figures = {}
  const messages = (room: number, cursor: string) => `/api/chat/rooms/${room}/messages?${cursor}limit=${plan.limit}`
  const paths: Record<Kind, (cursor: { room: number; id: number }) => string> = {
    newest: ({ room }) => messages(room, ''),
    before: ({ room, id }) => messages(room, `lastMessageId=${id}&`),
    after: ({ room, id }) => messages(room, `afterId=${id}&`),
    rooms: () => reader.roomsPath,
  }
  for (const kind of KINDS) {
    progress(`HTTP ${kind} x ${plan.samples}`)
    const cursor = cursors(plan)
    const samples = await time(plan.samples, async () => {
      const response = await fetch(base + paths[kind](cursor()), { headers: reader.headers })
      await response.arrayBuffer()
      if (!response.ok) throw new Error(`${kind}: ${response.status}`)
    })
    const { p50, p99 } = samples.percentiles()
    figures[`http${FIGURE[kind]}P50`] = p50
    figures[`http${FIGURE[kind]}P99`] = p99
  }

  const store: HistoryQueries = await target.openHistory(database)
  try {
    const queries: Record<Kind, (cursor: { room: number; id: number }) => Promise<unknown>> = {
      newest: ({ room }) => store.newest(room, plan.limit),
      before: ({ room, id }) => store.before(room, id, plan.limit),
      after: ({ room, id }) => store.after(room, id, plan.limit),
      rooms: () => store.rooms(reader.userId),
    }
    for (const kind of KINDS) {
      const cursor = cursors(plan)
      const { p50, p99 } = (await time(plan.samples, () => queries[kind](cursor()))).percentiles()
      figures[`store${FIGURE[kind]}P50`] = p50
      figures[`store${FIGURE[kind]}P99`] = p99
    }
  } finally {
    await store.close()
  }
  return figures
}
