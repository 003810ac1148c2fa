import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { createRoom, isAscendingUnique, newUsers, openStream, post, startServer, type TestServer, type TestUser } from './helpers'

let server: TestServer
let alice: TestUser, bob: TestUser
beforeAll(async () => {
  server = await startServer()
  ;[alice, bob] = await newUsers(server.url, 2, 'resume')
})
afterAll(() => server.stop())

/** Posts n messages, `parallel` at a time; returns their ids ascending. */
async function postMany(user: TestUser, roomId: number, n: number, parallel = 16): Promise<number[]> {
  const ids: number[] = []
  let next = 0
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < n) {
        const i = next++
        ids.push((await post(server.url, user, roomId, `m${i}`)).id)
      }
    }),
  )
  return ids.sort((a, b) => a - b)
}

describe('resume', () => {
  for (const gap of [1, 100, 5000]) {
    it(`replays a gap of ${gap} by Last-Event-ID header, then goes live`, async () => {
      const room = await createRoom(server.url, alice, { participantIds: [bob.id] })
      const before = await post(server.url, alice, room.id, 'seen')
      const missed = await postMany(alice, room.id, gap)
      const stream = await openStream(server.url, `/api/chat/rooms/${room.id}/subscribe`, bob.token, { 'last-event-id': String(before.id) })
      await stream.until((s) => s.messageIds().length >= gap, 20_000, `${gap} replayed`)
      const live = await post(server.url, alice, room.id, 'live')
      await stream.next((e) => e.id === String(live.id))
      expect(stream.messageIds()).toEqual([...missed, live.id])
      stream.close()
    }, 60_000)
  }

  it('accepts ?lastEventId= on the user stream, across rooms, in id order', async () => {
    const one = await createRoom(server.url, alice, { participantIds: [bob.id] })
    const two = await createRoom(server.url, alice, { participantIds: [bob.id] })
    const start = await post(server.url, alice, one.id, 'start')
    const expected: number[] = []
    for (let i = 0; i < 30; i++) expected.push((await post(server.url, alice, i % 2 ? one.id : two.id, `x${i}`)).id)
    const stream = await openStream(server.url, `/api/chat/stream?lastEventId=${start.id}`, bob.token)
    await stream.until((s) => s.messageIds().length >= 30, 5000, 'replay')
    expect(stream.messageIds()).toEqual(expected)
    stream.close()
  })

  it('hands over from replay to live with no gap and no duplicate while messages keep coming', async () => {
    const room = await createRoom(server.url, alice, { participantIds: [bob.id] })
    await postMany(alice, room.id, 1500)
    const first = await openStream(server.url, `/api/chat/rooms/${room.id}/subscribe`, bob.token)
    // keep posting the whole time; bob drops mid-way and resumes from the last id he saw
    let posting = true
    const sent: number[] = []
    const poster = (async () => {
      while (posting) sent.push((await post(server.url, alice, room.id, 'during')).id)
    })()
    await first.until((s) => s.messageIds().length >= 20, 5000, 'first messages')
    first.close()
    const seen = first.messageIds()
    const resumed = await openStream(server.url, `/api/chat/rooms/${room.id}/subscribe`, bob.token, { 'last-event-id': String(seen.at(-1)) })
    await resumed.until((s) => s.messageIds().length >= 50, 10_000, 'resumed messages')
    posting = false
    await poster
    const last = sent.at(-1)!
    await resumed.next((e) => e.id === String(last), 10_000)
    const all = [...seen, ...resumed.messageIds()]
    expect(isAscendingUnique(all)).toBe(true)
    expect(all.filter((id) => id > seen[0]! - 1 && id <= last)).toEqual(sent.filter((id) => id >= seen[0]!).sort((a, b) => a - b))
    resumed.close()
  }, 30_000)

  it('survives many drops and resumes in a row: every id once, ascending', async () => {
    const room = await createRoom(server.url, alice, { participantIds: [bob.id] })
    let posting = true
    const sent: number[] = []
    const poster = (async () => {
      while (posting) sent.push((await post(server.url, alice, room.id, 'loop')).id)
    })()
    const received: number[] = []
    for (let round = 0; round < 15; round++) {
      const headers: Record<string, string> = received.length ? { 'last-event-id': String(received.at(-1)) } : {}
      const stream = await openStream(server.url, `/api/chat/rooms/${room.id}/subscribe`, bob.token, headers)
      const target = round * 3 + 3
      await stream.until((s) => s.messageIds().length >= target % 7 + 1, 5000, 'some messages')
      stream.close()
      received.push(...stream.messageIds())
    }
    posting = false
    await poster
    const final = await openStream(server.url, `/api/chat/rooms/${room.id}/subscribe`, bob.token, { 'last-event-id': String(received.at(-1)) })
    await final.until((s) => (received.at(-1)! >= sent.at(-1)!) || s.messageIds().at(-1) === sent.at(-1), 5000, 'the last message')
    received.push(...final.messageIds())
    final.close()
    expect(isAscendingUnique(received)).toBe(true)
    const firstSeen = received[0]!
    expect(received).toEqual(sent.filter((id) => id >= firstSeen).sort((a, b) => a - b))
  }, 30_000)

  it('rejects a malformed Last-Event-ID with 400', async () => {
    const room = await createRoom(server.url, alice)
    for (const bad of ['abc', '-1', '1.5', '99999999999999999999']) {
      const res = await fetch(`${server.url}/api/chat/rooms/${room.id}/subscribe`, { headers: { authorization: `Bearer ${alice.token}`, 'last-event-id': bad } })
      expect([bad, res.status]).toEqual([bad, 400])
      expect((await res.json()).error.message).toContain('Last-Event-ID')
    }
  })
})
