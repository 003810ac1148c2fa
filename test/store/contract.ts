import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { MAX_LIMIT, type MessageRecord, type RoomRecord, type Store, type StoredEvent, type UserRecord } from '../../src/store/store'

/**
 * The guarantees of `Store` (src/store/store.ts) that the conversation features and delivery
 * rest on, checked the same way against every implementation: `makeStore` gives a new, empty
 * store and a cleanup.
 */
export function runStoreContract(name: string, makeStore: () => Promise<{ store: Store; cleanup(): Promise<void> }>) {
  describe(`Store contract: ${name}`, () => {
    let store: Store
    let cleanup: () => Promise<void>
    let clock = 1_000
    const now = () => ++clock

    beforeEach(async () => {
      ;({ store, cleanup } = await makeStore())
    })
    afterEach(() => cleanup())

    let users = 0
    const user = async (): Promise<UserRecord> =>
      (await store.createUser({ username: `user${++users}`, displayName: `User ${users}`, passwordHash: 'x', now: now() }))!
    const room = (owner: UserRecord, others: UserRecord[] = []): Promise<RoomRecord> =>
      store.createRoom({ name: 'r', visibility: 'private', ownerId: owner.id, participantIds: others.map((u) => u.id), now: now() })
    const post = async (roomId: number, sender: UserRecord, content = 'hi', extra: { replyToId?: number; mentions?: number[] } = {}) =>
      (await store.postMessage({ roomId, senderId: sender.id, content, clientMessageId: null, replyToId: extra.replyToId ?? null, mentions: extra.mentions ?? [], now: now() })).message
    const edit = (roomId: number, messageId: number, content: string, mentions: number[] = []) =>
      store.editMessage({ roomId, messageId, content, mentions, now: now() })
    const react = (roomId: number, messageId: number, userId: number, emoji: string, on = true) =>
      store.setReaction({ roomId, messageId, userId, emoji, on, now: now() })
    /** Each event as kind:message id, in the order read. */
    const shape = (events: StoredEvent[]) => events.map((e) => `${e.kind}:${e.kind === 'message-deleted' ? e.messageId : e.message.id}`)
    const ids = (events: StoredEvent[]) => events.map((e) => e.id)
    const ascending = (list: number[]) => list.every((id, i) => i === 0 || id > list[i - 1]!)

    describe('the event sequence', () => {
      it('numbers messages and changes from one sequence, in commit order; a message event is the message as it is now', async () => {
        const [alice, bob] = [await user(), await user()]
        const r = await room(alice, [bob])
        const start = await store.maxEventId()
        const first = await post(r.id, alice, 'first')
        const edited = (await edit(r.id, first.id, 'first, edited', [bob.id]))!
        const second = await post(r.id, bob, 'second')
        const reacted = (await react(r.id, second.id, alice.id, '🎉'))!
        const deleted = (await store.deleteMessage(r.id, second.id, now()))!

        expect(edited.eventId).toBeGreaterThan(first.id)
        expect(second.id).toBeGreaterThan(edited.eventId)
        expect(reacted.eventId!).toBeGreaterThan(second.id)
        expect(deleted.eventId).toBeGreaterThan(reacted.eventId!)
        expect(await store.maxEventId()).toBe(deleted.eventId)

        const events = await store.eventsAfter(start, 100)
        // The deleted message's own event and its update are left out; its deletion stays.
        expect(shape(events)).toEqual([`message:${first.id}`, `message-updated:${first.id}`, `message-deleted:${second.id}`])
        expect(ids(events)).toEqual([first.id, edited.eventId, deleted.eventId])
        const [asPosted, update] = events as Extract<StoredEvent, { message: MessageRecord }>[]
        expect(asPosted!.message).toEqual(edited.message)
        expect(update!.message).toEqual(edited.message)
        expect(events[2]).toMatchObject({ kind: 'message-deleted', roomId: r.id, messageId: second.id })
        for (const event of events) expect(typeof event.at).toBe('number')
      })

      it('reads from any point, in pages, with no gap and no repeat', async () => {
        const alice = await user()
        const r = await room(alice)
        const written: number[] = []
        for (let i = 0; i < 7; i++) {
          const m = await post(r.id, alice, `m${i}`)
          written.push(m.id, (await edit(r.id, m.id, `m${i}'`))!.eventId)
        }
        const read: number[] = []
        for (let after = written[0]! - 1; ; ) {
          const page = await store.eventsAfter(after, 3)
          read.push(...ids(page))
          if (page.length < 3) break
          after = page.at(-1)!.id
        }
        expect(read).toEqual(written)
      })

      it('never goes backwards, even after the newest message is deleted', async () => {
        const alice = await user()
        const r = await room(alice)
        const m = await post(r.id, alice)
        const { eventId } = (await store.deleteMessage(r.id, m.id, now()))!
        const next = await post(r.id, alice)
        expect(next.id).toBeGreaterThan(eventId)
        const removed = await store.removeParticipant(r.id, alice.id, now())
        expect(removed!.id).toBeGreaterThan(next.id)
      })

      // The reason for the counter row (src/store/postgres/messages-sequence.ts): ids from a
      // plain sequence commit out of order, and a reader moving its cursor past a committed id
      // never sees a smaller one that commits after. Each reader polls with a small page and
      // moves its cursor to the last id it got, as the delivery pump and resume do.
      it('in commit order: readers polling id > cursor while writers post, edit and react with random delays miss nothing and repeat nothing', async () => {
        const writers: UserRecord[] = []
        for (let i = 0; i < 10; i++) writers.push(await user())
        const [first, ...others] = writers
        const rooms = [await room(first!, others), await room(others[0]!, [first!, ...others.slice(1)])]
        const start = await store.maxEventId()
        const written: { id: number; roomId: number }[] = []
        const jitter = () => Bun.sleep(Math.random() * 2)
        const write = async (writer: UserRecord, w: number) => {
          for (let k = 0; k < 24; k++) {
            await jitter()
            const { id: roomId } = rooms[(w + k) % rooms.length]!
            const m = await post(roomId, writer, `w${w} m${k}`)
            written.push({ id: m.id, roomId })
            await jitter()
            if (k % 3 === 0) written.push({ id: (await edit(roomId, m.id, `w${w} m${k} edited`))!.eventId, roomId })
            if (k % 3 === 1) written.push({ id: (await react(roomId, m.id, writer.id, '👍'))!.eventId!, roomId })
          }
        }
        let writing = true
        const poll = async (read: (cursor: number) => Promise<StoredEvent[]>) => {
          const seen: number[] = []
          for (let cursor = start; ; ) {
            const finished = !writing
            const page = await read(cursor)
            seen.push(...ids(page))
            if (page.length > 0) cursor = page.at(-1)!.id
            else if (finished) return seen
            else await Bun.sleep(Math.random())
          }
        }
        const readers = [
          poll((cursor) => store.eventsAfter(cursor, 7)),
          poll((cursor) => store.userEventsAfter(first!.id, cursor, 7)),
          poll((cursor) => store.roomEventsAfter(rooms[0]!.id, cursor, 7)),
        ]
        await Promise.all(writers.map(write))
        writing = false
        const [everything, ofUser, ofRoom] = await Promise.all(readers)
        const sorted = (list: { id: number }[]) => list.map((e) => e.id).sort((a, b) => a - b)
        expect(everything).toEqual(sorted(written))
        expect(ofUser).toEqual(sorted(written))
        expect(ofRoom).toEqual(sorted(written.filter((e) => e.roomId === rooms[0]!.id)))
      })

      it('finds a user\'s few events far apart among many of other rooms, page by page, in order', async () => {
        const [alice, bob] = [await user(), await user()]
        const quiet = await room(alice, [bob])
        const busy = await room(bob)
        const start = await store.maxEventId()
        const mine: number[] = []
        for (let i = 0; i < 5; i++) {
          for (let k = 0; k < 12; k++) await post(busy.id, bob)
          const m = await post(quiet.id, bob)
          mine.push(m.id)
          if (i % 2) mine.push((await edit(quiet.id, m.id, 'edited'))!.eventId)
        }
        for (let k = 0; k < 12; k++) await post(busy.id, bob)
        const read: number[] = []
        for (let after = start; ; ) {
          const page = await store.userEventsAfter(alice.id, after, 2)
          read.push(...ids(page))
          if (page.length < 2) break
          after = page.at(-1)!.id
        }
        expect(read).toEqual(mine)
      })

      it('scopes events to a user\'s rooms now, or to one room', async () => {
        const [alice, bob] = [await user(), await user()]
        const shared = await room(alice, [bob])
        const alone = await room(alice)
        const start = await store.maxEventId()
        const a = await post(shared.id, alice)
        const b = await post(alone.id, alice)
        const aEdit = (await edit(shared.id, a.id, 'edited'))!
        const bDelete = (await store.deleteMessage(alone.id, b.id, now()))!
        expect(ids(await store.userEventsAfter(bob.id, start, 100))).toEqual([a.id, aEdit.eventId])
        expect(ids(await store.userEventsAfter(alice.id, start, 100))).toEqual([a.id, aEdit.eventId, bDelete.eventId])
        expect(ids(await store.roomEventsAfter(alone.id, start, 100))).toEqual([bDelete.eventId])
        expect(ids(await store.roomEventsAfter(shared.id, a.id, 100))).toEqual([aEdit.eventId])
      })
    })

    describe('edits', () => {
      it('replace content and mentions and set editedAt; an unknown, deleted or other room\'s message is null', async () => {
        const [alice, bob, carol] = [await user(), await user(), await user()]
        const r = await room(alice, [bob, carol])
        const other = await room(alice)
        const m = await post(r.id, alice, '@user2 hi', { mentions: [bob.id] })
        expect(m).toMatchObject({ editedAt: null, replyToId: null, mentions: [bob.id], reactions: [] })
        const at = clock + 1
        const { message } = (await store.editMessage({ roomId: r.id, messageId: m.id, content: '@user3 hi', mentions: [carol.id], now: at }))!
        expect(message).toMatchObject({ id: m.id, content: '@user3 hi', mentions: [carol.id], editedAt: at, createdAt: m.createdAt })
        expect(await store.getMessage(r.id, m.id)).toEqual(message)
        expect((await store.mentionsOf(bob.id, { limit: 10 })).map((x) => x.id)).toEqual([])
        expect((await store.mentionsOf(carol.id, { limit: 10 })).map((x) => x.id)).toEqual([m.id])

        expect(await edit(other.id, m.id, 'wrong room')).toBeNull()
        expect(await edit(r.id, m.id + 1000, 'no such')).toBeNull()
        await store.deleteMessage(r.id, m.id, now())
        expect(await edit(r.id, m.id, 'gone')).toBeNull()
      })

      it('keep a reply\'s replyToId', async () => {
        const alice = await user()
        const r = await room(alice)
        const original = await post(r.id, alice)
        const reply = await post(r.id, alice, 'answer', { replyToId: original.id })
        expect(reply.replyToId).toBe(original.id)
        await store.deleteMessage(r.id, original.id, now())
        expect((await store.getMessage(r.id, reply.id))!.replyToId).toBe(original.id)
      })
    })

    describe('reactions', () => {
      it('keep emoji in the order of first use and user ids ascending; only a change writes an event', async () => {
        const [alice, bob, carol] = [await user(), await user(), await user()]
        const r = await room(alice, [bob, carol])
        const m = await post(r.id, alice)
        await react(r.id, m.id, carol.id, '👍')
        await react(r.id, m.id, alice.id, '🎉')
        const third = (await react(r.id, m.id, alice.id, '👍'))!
        expect(third.message.reactions).toEqual([
          { emoji: '👍', userIds: [alice.id, carol.id] },
          { emoji: '🎉', userIds: [alice.id] },
        ])

        const before = await store.maxEventId()
        const again = (await react(r.id, m.id, alice.id, '👍'))!
        expect(again.eventId).toBeNull()
        expect(again.message).toEqual(third.message)
        const absent = (await react(r.id, m.id, bob.id, '🎉', false))!
        expect(absent.eventId).toBeNull()
        expect(await store.maxEventId()).toBe(before)

        const removed = (await react(r.id, m.id, alice.id, '🎉', false))!
        expect(removed.eventId).toBe(before + 1)
        expect(removed.message.reactions).toEqual([{ emoji: '👍', userIds: [alice.id, carol.id] }])
        expect((await store.getMessage(r.id, m.id))!.reactions).toEqual(removed.message.reactions)
        const events = await store.eventsAfter(before, 10)
        expect(events).toEqual([{ kind: 'message-updated', id: removed.eventId!, at: expect.any(Number), message: removed.message }])
      })

      it('are null for an unknown or deleted message, and go with a deleted one', async () => {
        const alice = await user()
        const r = await room(alice)
        const m = await post(r.id, alice)
        await react(r.id, m.id, alice.id, '+1')
        expect(await react(r.id, m.id + 1000, alice.id, '+1')).toBeNull()
        await store.deleteMessage(r.id, m.id, now())
        expect(await react(r.id, m.id, alice.id, '+1')).toBeNull()
        expect(await react(r.id, m.id, alice.id, '+1', false)).toBeNull()
      })
    })

    describe('deletion', () => {
      it('removes the message from history, lastMessage, unreadCount and mentionCount', async () => {
        const [alice, bob] = [await user(), await user()]
        const r = await room(alice, [bob])
        const kept = await post(r.id, alice, 'kept', { mentions: [bob.id] })
        const gone = await post(r.id, alice, 'gone', { mentions: [bob.id] })
        let summary = (await store.roomSummary(r.id, bob.id))!
        expect(summary).toMatchObject({ unreadCount: 2, mentionCount: 2 })
        expect(summary.lastMessage!.id).toBe(gone.id)

        expect(await store.deleteMessage(r.id, gone.id, now())).toEqual({ eventId: expect.any(Number) })
        expect((await store.history({ roomId: r.id, limit: 50 })).map((m) => m.id)).toEqual([kept.id])
        expect(await store.getMessage(r.id, gone.id)).toBeNull()
        summary = (await store.roomSummary(r.id, bob.id))!
        expect(summary).toMatchObject({ unreadCount: 1, mentionCount: 1 })
        expect(summary.lastMessage!.id).toBe(kept.id)
        const [listed] = await store.roomSummaries(bob.id)
        expect(listed).toEqual(summary)
        expect((await store.mentionsOf(bob.id, { limit: 10 })).map((m) => m.id)).toEqual([kept.id])

        await store.deleteMessage(r.id, kept.id, now())
        expect((await store.roomSummary(r.id, bob.id))!).toMatchObject({ lastMessage: null, unreadCount: 0, mentionCount: 0 })
      })

      it('happens once: again, in another room, or of an unknown id is null', async () => {
        const alice = await user()
        const r = await room(alice)
        const other = await room(alice)
        const m = await post(r.id, alice)
        expect(await store.deleteMessage(other.id, m.id, now())).toBeNull()
        expect(await store.deleteMessage(r.id, m.id, now())).not.toBeNull()
        expect(await store.deleteMessage(r.id, m.id, now())).toBeNull()
        expect(await store.deleteMessage(r.id, m.id + 1000, now())).toBeNull()
      })
    })

    describe('mentions', () => {
      it('lists the mentions of a user in rooms they are in now, newest limit, ascending, scrolling back', async () => {
        const [alice, bob] = [await user(), await user()]
        const r1 = await room(alice, [bob])
        const r2 = await room(alice, [bob])
        const mine: number[] = []
        for (let i = 0; i < 5; i++) {
          mine.push((await post(i % 2 ? r1.id : r2.id, alice, `@user2 ${i}`, { mentions: [bob.id] })).id)
          await post(r1.id, alice, 'no mention')
        }
        expect((await store.mentionsOf(bob.id, { limit: 3 })).map((m) => m.id)).toEqual(mine.slice(2))
        expect((await store.mentionsOf(bob.id, { beforeId: mine[2], limit: 3 })).map((m) => m.id)).toEqual(mine.slice(0, 2))
        expect(await store.mentionsOf(alice.id, { limit: 10 })).toEqual([])

        await store.removeParticipant(r2.id, bob.id, now())
        expect((await store.mentionsOf(bob.id, { limit: 10 })).map((m) => m.roomId)).toEqual([r1.id, r1.id])
      })

      it('counts only unread mentions', async () => {
        const [alice, bob] = [await user(), await user()]
        const r = await room(alice, [bob])
        const m1 = await post(r.id, alice, '@user2', { mentions: [bob.id] })
        await post(r.id, alice, '@user2 again', { mentions: [bob.id] })
        await store.markRead(r.id, bob.id, m1.id)
        expect(await store.roomSummary(r.id, bob.id)).toMatchObject({ unreadCount: 1, mentionCount: 1 })
        expect(await store.roomSummary(r.id, alice.id)).toMatchObject({ unreadCount: 0, mentionCount: 0 })
      })

      it('knows the usernames of a room\'s participants', async () => {
        const [alice, bob, carol] = [await user(), await user(), await user()]
        const r = await room(alice, [bob])
        expect(await store.participantUsernames(r.id)).toEqual(new Map([[alice.username, alice.id], [bob.username, bob.id]]))
        expect((await store.participantUsernames(r.id)).has(carol.username)).toBe(false)
      })
    })

    describe('notification levels', () => {
      it('default to mentions in group rooms and all in direct rooms, none for a non-participant; a participant sets theirs', async () => {
        const [alice, bob, carol] = [await user(), await user(), await user()]
        const group = await store.createRoom({ name: 'g', visibility: 'public', ownerId: alice.id, participantIds: [bob.id], now: now() })
        const { room: direct } = await store.ensureDirectRoom(alice.id, bob.id, 'd', now())
        expect((await store.roomSummary(group.id, alice.id))!.notificationLevel).toBe('mentions')
        expect((await store.roomSummary(direct.id, alice.id))!.notificationLevel).toBe('all')
        expect((await store.roomSummary(group.id, carol.id))!).toMatchObject({ notificationLevel: 'none', unreadCount: 0, mentionCount: 0 })

        expect(await store.setNotificationLevel(group.id, alice.id, 'none')).toBe(true)
        expect(await store.setNotificationLevel(direct.id, alice.id, 'mentions')).toBe(true)
        expect(await store.setNotificationLevel(group.id, carol.id, 'all')).toBe(false)
        const levels = new Map((await store.roomSummaries(alice.id)).map((s) => [s.id, s.notificationLevel]))
        expect(levels).toEqual(new Map([[group.id, 'none'], [direct.id, 'mentions']]))
        expect((await store.roomSummary(group.id, bob.id))!.notificationLevel).toBe('mentions')
      })
    })

    describe('limits', () => {
      it(`clamps every limit to ${MAX_LIMIT}, and a negative one to nothing`, async () => {
        const alice = await user()
        const r = await room(alice)
        const start = await store.maxEventId()
        const posts = Array.from({ length: MAX_LIMIT + 20 }, (_, i) =>
          store.postMessage({ roomId: r.id, senderId: alice.id, content: `m${i}`, clientMessageId: null, replyToId: null, mentions: [alice.id], now: now() }),
        )
        await Promise.all(posts)
        const huge = 1_000_000
        expect(await store.history({ roomId: r.id, limit: huge })).toHaveLength(MAX_LIMIT)
        expect(await store.history({ roomId: r.id, afterId: 0, limit: huge })).toHaveLength(MAX_LIMIT)
        expect(await store.eventsAfter(start, huge)).toHaveLength(MAX_LIMIT)
        expect(await store.userEventsAfter(alice.id, start, huge)).toHaveLength(MAX_LIMIT)
        expect(await store.roomEventsAfter(r.id, start, huge)).toHaveLength(MAX_LIMIT)
        expect(await store.mentionsOf(alice.id, { limit: huge })).toHaveLength(MAX_LIMIT)
        expect(await store.history({ roomId: r.id, limit: -1 })).toEqual([])
        expect(await store.eventsAfter(start, -1)).toEqual([])
        expect(await store.mentionsOf(alice.id, { limit: -1 })).toEqual([])
        expect(ascending(ids(await store.eventsAfter(start, huge)))).toBe(true)
      })
    })
  })
}
