import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { call, createRoom, isAscendingUnique, newUsers, openStream, post, startServer, type SseEvent, type SseStream, type TestServer, type TestUser } from './helpers'

/**
 * The change events over real SSE: `message-updated` and `message-deleted` take their ids from
 * the one event sequence, arrive live on every stream of the room, and replay on resume, in id
 * order, with every message as it is now.
 */

let server: TestServer
let alice: TestUser, bob: TestUser
beforeAll(async () => {
  server = await startServer()
  ;[alice, bob] = await newUsers(server.url, 2, 'changes')
})
afterAll(() => server.stop())

const messagePath = (roomId: number, messageId: number) => `/api/chat/rooms/${roomId}/messages/${messageId}`

async function edit(user: TestUser, roomId: number, messageId: number, content: string) {
  const res = await call(server.url, messagePath(roomId, messageId), { method: 'PATCH', token: user.token, body: { content } })
  expect(res.status).toBe(200)
  return res.body
}

async function remove(user: TestUser, roomId: number, messageId: number) {
  expect((await call(server.url, messagePath(roomId, messageId), { method: 'DELETE', token: user.token })).status).toBe(204)
}

async function react(user: TestUser, roomId: number, messageId: number, emoji: string, on = true) {
  const res = await call(server.url, `${messagePath(roomId, messageId)}/reactions/${encodeURIComponent(emoji)}`, { method: on ? 'PUT' : 'DELETE', token: user.token })
  expect(res.status).toBe(200)
  return res.body
}

const history = async (user: TestUser, roomId: number) =>
  (await call(server.url, `/api/chat/rooms/${roomId}/messages?limit=200`, { token: user.token })).body as { id: number }[]

/** The events that carry an id (the replayed sequence), as `kind:messageId`. */
const sequence = (events: SseEvent[]) =>
  events.filter((e) => e.id !== undefined).map((e) => `${e.event}:${e.event === 'message-deleted' ? e.json.messageId : e.json.id}`)
const eventIds = (stream: SseStream) => stream.events.filter((e) => e.id !== undefined).map((e) => Number(e.id))

/** What API.md tells a client to do with each event: the client's copy of a room's history. */
function apply(held: Map<number, unknown>, events: SseEvent[]) {
  for (const e of events) {
    if (e.event === 'message' || e.event === 'message-updated') held.set(e.json.id, e.json)
    else if (e.event === 'message-deleted') held.delete(e.json.messageId)
  }
  return [...held.entries()].sort(([a], [b]) => a - b).map(([, m]) => m)
}

describe('change events, live', () => {
  it('sends edits, reaction changes and deletions to the room and user streams, with ascending ids; a no-op sends nothing', async () => {
    const room = await createRoom(server.url, alice, { participantIds: [bob.id] })
    const roomStream = await openStream(server.url, `/api/chat/rooms/${room.id}/subscribe`, bob.token)
    const userStream = await openStream(server.url, '/api/chat/stream', bob.token)
    // Each change reaches both streams before the next is made: a pump that read only after
    // the deletion would rightly leave out the deleted message's earlier events.
    const delivered = () => Promise.all([roomStream, userStream].map((s) => s.next((e) => e.id !== undefined)))
    try {
      const m = await post(server.url, alice, room.id, 'first')
      await delivered()
      const edited = await edit(alice, room.id, m.id, 'first, edited')
      await delivered()
      await react(bob, room.id, m.id, '🎉')
      await delivered()
      // A no-op: bob already gave 🎉, alice never gave 👍.
      await react(bob, room.id, m.id, '🎉')
      await react(alice, room.id, m.id, '👍', false)
      await react(bob, room.id, m.id, '🎉', false)
      await delivered()
      await remove(alice, room.id, m.id)
      await delivered()
      const marker = await post(server.url, alice, room.id, 'marker')

      for (const stream of [roomStream, userStream]) {
        await stream.next((e) => e.event === 'message' && e.json.id === marker.id)
        expect(sequence(stream.events)).toEqual([
          `message:${m.id}`,
          `message-updated:${m.id}`,
          `message-updated:${m.id}`,
          `message-updated:${m.id}`,
          `message-deleted:${m.id}`,
          `message:${marker.id}`,
        ])
        expect(isAscendingUnique(eventIds(stream))).toBe(true)
        const [, update, reacted, unreacted, deleted] = stream.events.filter((e) => e.id !== undefined)
        expect(update!.json).toEqual(edited)
        expect(update!.json).toMatchObject({ content: 'first, edited', editedAt: expect.any(String) })
        expect(reacted!.json.reactions).toEqual([{ emoji: '🎉', count: 1, userIds: [bob.id] }])
        expect(unreacted!.json.reactions).toEqual([])
        expect(deleted!.json).toEqual({ roomId: room.id, messageId: m.id })
        expect(Number(update!.id)).toBeGreaterThan(m.id)
      }
    } finally {
      roomStream.close()
      userStream.close()
    }
  })
})

describe('change events, on resume', () => {
  /**
   * Bob has seen the room up to `seen`; meanwhile messages are posted, edited, reacted to and
   * deleted (one both posted and deleted after `seen`). Returns what the room looks like now.
   */
  async function changesAfter(roomId: number, seen: { id: number }, older: { id: number }) {
    await edit(alice, roomId, seen.id, 'seen, edited')
    const second = await post(server.url, alice, roomId, 'second')
    await edit(alice, roomId, second.id, 'second, edited')
    await react(bob, roomId, second.id, '+1')
    const third = await post(server.url, alice, roomId, 'third')
    await remove(alice, roomId, third.id)
    await remove(alice, roomId, older.id)
    const last = await post(server.url, bob, roomId, 'last')
    return { second, third, last }
  }

  for (const path of ['room', 'user'] as const) {
    it(`replays, on the ${path} stream, every change after Last-Event-ID in id order, each message as it is now`, async () => {
      const room = await createRoom(server.url, alice, { participantIds: [bob.id] })
      const older = await post(server.url, alice, room.id, 'older')
      const seen = await post(server.url, alice, room.id, 'seen')
      const before = await history(bob, room.id)
      const { second, third, last } = await changesAfter(room.id, seen, older)

      const url = path === 'room' ? `/api/chat/rooms/${room.id}/subscribe` : '/api/chat/stream'
      const stream = await openStream(server.url, url, bob.token, { 'last-event-id': String(seen.id) })
      try {
        await stream.next((e) => e.event === 'message' && e.json.id === last.id)
        // The third message, posted and deleted since, is left out; its deletion is not.
        expect(sequence(stream.events)).toEqual([
          `message-updated:${seen.id}`,
          `message:${second.id}`,
          `message-updated:${second.id}`,
          `message-updated:${second.id}`,
          `message-deleted:${third.id}`,
          `message-deleted:${older.id}`,
          `message:${last.id}`,
        ])
        expect(isAscendingUnique(eventIds(stream))).toBe(true)
        expect(eventIds(stream)[0]).toBeGreaterThan(seen.id)
        // Replayed as it is now: edited, with its reaction, even in its own `message` event.
        const replayed = stream.events.find((e) => e.event === 'message' && e.json.id === second.id)!
        expect(replayed.json).toMatchObject({ content: 'second, edited', reactions: [{ emoji: '+1', count: 1, userIds: [bob.id] }] })
        // Convergence: the history bob held at `seen`, with the events applied, is the room's history now.
        const held = new Map(before.map((m) => [m.id, m as unknown]))
        expect(apply(held, stream.events)).toEqual(await history(bob, room.id))
      } finally {
        stream.close()
      }
    })
  }

  it('resumes from the id of a change event, and goes live after the replay', async () => {
    const room = await createRoom(server.url, alice, { participantIds: [bob.id] })
    const m = await post(server.url, alice, room.id, 'm')
    const live = await openStream(server.url, `/api/chat/rooms/${room.id}/subscribe`, bob.token)
    let resumed: SseStream | undefined
    try {
      await edit(alice, room.id, m.id, 'm, edited')
      const update = await live.next((e) => e.event === 'message-updated')
      live.close()
      await react(alice, room.id, m.id, '👀')
      resumed = await openStream(server.url, `/api/chat/rooms/${room.id}/subscribe`, bob.token, { 'last-event-id': update.id! })
      const reacted = await resumed.next((e) => e.event === 'message-updated')
      expect(reacted.json.reactions).toEqual([{ emoji: '👀', count: 1, userIds: [alice.id] }])
      expect(Number(reacted.id)).toBeGreaterThan(Number(update.id))
      await remove(alice, room.id, m.id)
      const deleted = await resumed.next((e) => e.event === 'message-deleted')
      expect(deleted.json).toEqual({ roomId: room.id, messageId: m.id })
      expect(sequence(resumed.events)).toEqual([`message-updated:${m.id}`, `message-deleted:${m.id}`])
    } finally {
      live.close()
      resumed?.close()
    }
  })
})
