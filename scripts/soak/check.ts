/**
 * The soak's verdict on delivery: what every logical stream received, held against every
 * room's history as the server stores it after the load.
 */

/** A post the soak sent; `doneAt` and `id` once it was answered 201. Times are performance.now(). */
export interface Post {
  roomId: number
  clientMessageId: string
  sentAt: number
  doneAt?: number
  id?: number
}

/** What a logical stream (a first connection and all its resumes) received. */
export interface StreamRecord {
  name: string
  rooms: ReadonlySet<number>
  /** When its first connection was asked for. */
  firstSentAt: number
  /** When its first connection answered 200: the server fixed its start point before this. */
  headersAt: number
  /** Message ids in the order they arrived, over all its connections. */
  ids: number[]
}

/** What went wrong, by kind, with the first few examples of each. */
export class Problems {
  private readonly byKind = new Map<string, { count: number; examples: string[] }>()

  add(kind: string, example: string): void {
    const entry = this.byKind.get(kind) ?? { count: 0, examples: [] }
    entry.count++
    if (entry.examples.length < 5) entry.examples.push(example)
    this.byKind.set(kind, entry)
  }

  get size(): number {
    return this.byKind.size
  }

  lines(): string[] {
    return [...this.byKind].flatMap(([kind, { count, examples }]) => [`  ${kind}: ${count}`, ...examples.map((e) => `    ${e}`)])
  }
}

/**
 * Holds every stream to "each message of its rooms exactly once, in ascending id order, from
 * the point it first connected", against `history` (each room's ids, ascending, read after
 * the load):
 * - ids strictly ascend (a repeat is a duplicate, a smaller one a reordering);
 * - every id is a message of one of its rooms;
 * - none of its rooms' messages between its first and its last delivery is missing;
 * - none posted after it first connected is missing before its first delivery, and that first
 *   one was not already answered 201 before it asked to connect.
 * Past its last delivery the drain at its close is the check. Every 201 must be in `history`.
 */
export function checkDeliveries(streams: readonly StreamRecord[], postsById: ReadonlyMap<number, Post>, history: ReadonlyMap<number, number[]>, problems: Problems): void {
  const roomOf = new Map<number, number>()
  for (const [roomId, ids] of history) for (const id of ids) roomOf.set(id, roomId)
  for (const [id, p] of postsById) if (roomOf.get(id) !== p.roomId) problems.add('posted (201) but not in history', `message ${id} in room ${p.roomId}`)

  for (const stream of streams) {
    const seen = new Set<number>()
    for (const [i, id] of stream.ids.entries()) {
      if (seen.has(id)) problems.add('duplicate delivery', `${stream.name}: message ${id} twice`)
      else if (i > 0 && id < stream.ids[i - 1]!) problems.add('out of order', `${stream.name}: ${id} after ${stream.ids[i - 1]}`)
      seen.add(id)
      const roomId = roomOf.get(id)
      if (roomId === undefined || !stream.rooms.has(roomId)) problems.add('delivered a message not of its rooms', `${stream.name}: message ${id}`)
    }
    const first = stream.ids[0]
    const last = stream.ids.at(-1)
    if (first === undefined || last === undefined) continue // nothing arrived: the drain said whether something should have
    const firstPost = postsById.get(first)
    if (firstPost?.doneAt !== undefined && firstPost.doneAt < stream.firstSentAt) {
      problems.add('delivered a message posted before the stream connected', `${stream.name}: message ${first}`)
    }
    for (const roomId of stream.rooms) {
      const ids = history.get(roomId) ?? []
      const start = lowerBound(ids, first)
      for (let i = start; i < ids.length && ids[i]! < last; i++) {
        if (!seen.has(ids[i]!)) problems.add('lost', `${stream.name}: message ${ids[i]} (room ${roomId}) between ${first} and ${last}`)
      }
      // Ids follow commit order: once a message was answered 201 before the stream was asked
      // for, every smaller id was committed before it too and is rightly not sent.
      for (let i = start - 1; i >= 0; i--) {
        const p = postsById.get(ids[i]!)
        if (p?.doneAt !== undefined && p.doneAt < stream.firstSentAt) break
        if (p && p.sentAt > stream.headersAt) problems.add('lost at the start', `${stream.name}: message ${ids[i]} posted after the stream connected, before its first ${first}`)
      }
    }
  }
}

/** The first index whose id is >= the one given (ids ascending). */
function lowerBound(ids: number[], id: number): number {
  let low = 0
  let high = ids.length
  while (low < high) {
    const mid = (low + high) >> 1
    if (ids[mid]! < id) low = mid + 1
    else high = mid
  }
  return low
}
