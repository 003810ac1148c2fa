/**
 * A user stream resumed after a long gap across many rooms: several pages of replay, each an
 * id-ordered merge of the user's rooms (src/store/sqlite/events.ts). What the replay must hold
 * is read from another user's live stream, open through the whole gap and in every room:
 * its events in the rooms the reader is in now, less the posts and updates of messages
 * deleted since. Within the gap: a room left (none of its events), a room gained (all of
 * them), and one message edited more times than a page holds and then deleted, so that a
 * page whose changes were mostly left out must still reach the deletion after them.
 */
import { afterAll, beforeAll, expect, it } from 'bun:test'
import { call, createRoom, newUsers, openStream, post, startServer, type SseEvent, type TestServer, type TestUser } from './helpers'

/** The store's page (src/stream/hub.ts): the gap spans several. */
const PAGE = 500

let server: TestServer
let alice: TestUser, bob: TestUser
beforeAll(async () => {
  server = await startServer()
  ;[alice, bob] = await newUsers(server.url, 2, 'longgap')
})
afterAll(() => server.stop())

const ok = async (path: string, user: TestUser, { method = 'POST', body }: { method?: string; body?: unknown } = {}) => {
  const res = await call(server.url, path, { token: user.token, method, body })
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body
}

/** Runs the tasks `parallel` at a time; posts land in rooms in an interleaved id order. */
async function inParallel(tasks: (() => Promise<unknown>)[], parallel = 16) {
  let next = 0
  await Promise.all(Array.from({ length: parallel }, async () => {
    while (next < tasks.length) await tasks[next++]!()
  }))
}

const withId = (events: SseEvent[]) => events.filter((e) => e.id !== undefined)
const key = (e: SseEvent) => `${e.event}#${e.id}`
const messageIdOf = (e: SseEvent): number => (e.event === 'message-deleted' ? e.json.messageId : e.json.id)

it('replays a gap of several pages across many rooms: every event once, in id order, as the live stream had it, then live', async () => {
  const shared = await Promise.all(Array.from({ length: 24 }, (_, i) => createRoom(server.url, alice, { name: `shared ${i}`, participantIds: [bob.id] })))
  const others = await Promise.all(Array.from({ length: 4 }, (_, i) => createRoom(server.url, alice, { name: `other ${i}` })))
  const rooms = [...shared, ...others]
  const bobIn = new Set(shared.map((r) => r.id))
  const observer = await openStream(server.url, '/api/chat/stream', alice.token)
  const seen = await post(server.url, alice, shared[0]!.id, 'the last one bob saw')
  await observer.next((e) => e.id === String(seen.id))

  const posted: { id: number; roomId: number }[] = []
  const postRound = (n: number, offset: number) =>
    inParallel(Array.from({ length: n }, (_, i) => async () => {
      const room = rooms[(i + offset) % rooms.length]!
      // Every seventh post in a room of bob's is his own.
      const by = i % 7 === 0 && bobIn.has(room.id) ? bob : alice
      const message = await post(server.url, by, room.id, `gap ${offset + i}`)
      if (by === alice) posted.push({ id: message.id, roomId: room.id })
      // Changes all along the gap, not only in a block: every page holds some.
      if (i % 9 === 4) await ok(`/api/chat/rooms/${room.id}/messages/${message.id}/reactions/${encodeURIComponent('🎉')}`, alice, { method: 'PUT' })
    }))
  await postRound(1000, 0)

  // More updates of one message than a page holds, then its deletion: all left out but that.
  const target = posted.find((m) => m.roomId === shared[3]!.id)!
  for (let i = 0; i < PAGE + 20; i++) await ok(`/api/chat/rooms/${target.roomId}/messages/${target.id}`, alice, { method: 'PATCH', body: { content: `edit ${i}` } })
  await ok(`/api/chat/rooms/${target.roomId}/messages/${target.id}`, alice, { method: 'DELETE' })

  const picks = posted.filter((m) => m !== target).filter((_, i) => i % 20 === 1)
  await inParallel(picks.map((m, i) => async () => {
    const path = `/api/chat/rooms/${m.roomId}/messages/${m.id}`
    if (i % 3 === 0) await ok(path, alice, { method: 'PATCH', body: { content: `edited ${i}` } })
    if (i % 3 === 1) await ok(`${path}/reactions/${encodeURIComponent('👍')}`, alice, { method: 'PUT' })
    if (i % 3 === 2) {
      await ok(path, alice, { method: 'PATCH', body: { content: `edited, then deleted ${i}` } })
      await ok(path, alice, { method: 'DELETE' })
    }
  }))

  const left = shared[5]!
  await ok(`/api/chat/rooms/${left.id}/leave`, bob)
  bobIn.delete(left.id)
  const gained = await createRoom(server.url, alice, { name: 'gained', participantIds: [bob.id] })
  await observer.next((e) => e.event === 'room-created' && e.json.roomId === gained.id)
  rooms.push(gained)
  await postRound(1000, 1000)
  const last = await post(server.url, alice, shared[1]!.id, 'the last of the gap')
  await observer.until((s) => s.events.some((e) => e.id === String(last.id)), 20_000, 'the observer has the gap')

  const bobRooms = new Set((await ok('/api/chat/rooms', bob, { method: 'GET' }) as { id: number }[]).map((r) => r.id))
  expect(bobRooms.has(left.id)).toBe(false)
  expect(bobRooms.has(gained.id)).toBe(true)
  const live = withId(observer.events).filter((e) => Number(e.id) > seen.id)
  const deleted = new Set(live.filter((e) => e.event === 'message-deleted').map(messageIdOf))
  const expected = live
    .filter((e) => bobRooms.has(e.json.roomId))
    .filter((e) => e.event === 'message-deleted' || !deleted.has(messageIdOf(e)))
    .map(key)
  expect(expected.length).toBeGreaterThan(3 * PAGE)
  expect(expected.filter((k) => k.startsWith('message-deleted#')).length).toBeGreaterThan(10)

  const stream = await openStream(server.url, '/api/chat/stream', bob.token, { 'last-event-id': String(seen.id) })
  await stream.until((s) => s.events.some((e) => e.id === String(last.id)), 20_000, 'the replay reaches the end of the gap')
  const replayed = withId(stream.events)
  expect(replayed.map(key)).toEqual(expected)

  const now = await post(server.url, alice, gained.id, 'live again')
  const next = await stream.next((e) => e.id !== undefined && Number(e.id) > last.id, 5000)
  expect(next.id).toBe(String(now.id))

  // Applied in order, the replay holds each room's messages of the gap as they are now.
  const held = new Map<number, any>()
  for (const e of replayed) {
    if (e.event === 'message-deleted') held.delete(e.json.messageId)
    else held.set(e.json.id, e.json)
  }
  for (const roomId of bobRooms) {
    const history: any[] = []
    for (let after = seen.id; ; ) {
      const page = await ok(`/api/chat/rooms/${roomId}/messages?afterId=${after}&limit=200`, bob, { method: 'GET' }) as any[]
      history.push(...page.filter((m) => m.id <= last.id))
      if (page.length < 200) break
      after = page.at(-1)!.id
    }
    const mine = [...held.values()].filter((m) => m.roomId === roomId && m.id > seen.id).sort((a, b) => a.id - b.id)
    expect([roomId, mine]).toEqual([roomId, history])
  }
  stream.close()
  observer.close()
}, 120_000)
