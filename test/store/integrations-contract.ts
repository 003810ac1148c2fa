import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import type { MessageRecord, OutgoingCall, RoomRecord, Store, UserRecord } from '../../src/store/store'

/** A new, empty store; `another` opens a second store on the same database (another instance). */
export interface IntegrationsFixture {
  store: Store
  another(): Promise<Store>
  cleanup(): Promise<void>
}

/**
 * The delivery queue, push subscriptions and search of `Store` (src/store/store.ts), checked the
 * same way on every implementation: which messages make calls, claims shared between workers
 * (never the same call twice, leases, the attempts fence, each target's share), and the search
 * rules of API.md.
 */
export function runIntegrationsContract(name: string, makeStore: () => Promise<IntegrationsFixture>) {
  describe(`Store integrations contract: ${name}`, () => {
    let fixture: IntegrationsFixture
    let store: Store
    let clock = 1_000
    const now = () => ++clock

    beforeEach(async () => {
      fixture = await makeStore()
      store = fixture.store
    })
    afterEach(() => fixture.cleanup())

    let users = 0
    const user = async (): Promise<UserRecord> =>
      (await store.createUser({ username: `user${++users}`, displayName: `User ${users}`, passwordHash: 'x', now: now() }))!
    const bot = async (webhookUrl: string | null = 'http://127.0.0.1:1/hook'): Promise<UserRecord> =>
      (await store.createBot({
        username: `bot${++users}`,
        displayName: `Bot ${users}`,
        webhookUrl,
        webhookSecret: webhookUrl === null ? null : 'secret',
        tokenHash: new Uint8Array(32).fill(users),
        now: now(),
      }))!
    const room = (owner: UserRecord, others: UserRecord[] = []): Promise<RoomRecord> =>
      store.createRoom({ name: 'r', visibility: 'private', ownerId: owner.id, participantIds: others.map((u) => u.id), now: now() })
    const post = async (roomId: number, sender: UserRecord, content = 'hi', mentions: UserRecord[] = []): Promise<MessageRecord> =>
      (await store.postMessage({ roomId, senderId: sender.id, content, clientMessageId: null, replyToId: null, mentions: mentions.map((u) => u.id), now: now() })).message
    const subscribe = async (owner: UserRecord, endpoint = `http://127.0.0.1:1/push/${owner.id}`) => {
      await store.savePushSubscription({ userId: owner.id, endpoint, p256dh: 'key', auth: 'auth', now: now() })
      return endpoint
    }

    const FAR = 10 ** 13
    /** Every due call, taken (far in the future, so any lease has run out). */
    const takeAll = (from: Store = store, at = FAR) => from.claimOutgoing({ now: at, leaseUntil: at + 60_000, limit: 500, perTarget: 500, inFlight: new Map() })
    /** The calls as `kind:target:message`, sorted. */
    const calls = (list: OutgoingCall[]) => list.map((c) => `${c.kind}:${c.targetId}:${c.messageId}`).sort()
    /** The subscriptions (ids) pushed for one message. */
    const pushedFor = (list: OutgoingCall[], messageId: number) => list.filter((c) => c.kind === 'push' && c.messageId === messageId).map((c) => c.targetId)

    describe('which messages make outgoing calls', () => {
      it('a mentioned bot with a webhook gets a call; one without, a deactivated one, a member or the sender itself do not', async () => {
        const alice = await user()
        const [hooked, silent, gone, member] = [await bot(), await bot(null), await bot(), await user()]
        const r = await room(alice, [hooked, silent, gone, member])
        await store.setDeactivated(gone.id, true, now())
        const m = await post(r.id, alice, `@${hooked.username} @${silent.username} @${gone.username} @${member.username}`, [hooked, silent, gone, member])
        const own = await post(r.id, hooked, 'me', [hooked])
        const plain = await post(r.id, alice, 'nobody')
        const taken = await takeAll()
        expect(calls(taken)).toEqual([`webhook:${hooked.id}:${m.id}`])
        expect(taken[0]).toMatchObject({ roomId: r.id, createdAt: m.createdAt, attempts: 1 })
        expect(taken.some((c) => c.messageId === own.id || c.messageId === plain.id)).toBe(false)
      })

      it('in a direct room every message to a bot is a call, once even when it is mentioned too; not the bot\'s own', async () => {
        const alice = await user()
        const helper = await bot()
        const { room: direct } = await store.ensureDirectRoom(alice.id, helper.id, 'dm', now())
        const first = await post(direct.id, alice, 'hello')
        const second = await post(direct.id, alice, `@${helper.username} again`, [helper])
        await post(direct.id, helper, 'reply')
        expect(calls(await takeAll())).toEqual([`webhook:${helper.id}:${first.id}`, `webhook:${helper.id}:${second.id}`].sort())
      })

      it('pushes follow each participant\'s level: group default mentions, direct default all, none never; never the sender\'s own', async () => {
        const [alice, bob, carol, dave] = [await user(), await user(), await user(), await user()]
        const r = await room(alice, [bob, carol, dave])
        for (const u of [alice, bob, carol, dave]) await subscribe(u)
        await store.setNotificationLevel(r.id, carol.id, 'all')
        await store.setNotificationLevel(r.id, dave.id, 'none')
        const plain = await post(r.id, alice, 'plain')
        const mentioning = await post(r.id, alice, 'hey', [bob, dave])
        const { room: direct } = await store.ensureDirectRoom(alice.id, bob.id, 'dm', now())
        const inDirect = await post(direct.id, bob, 'psst')
        const taken = await takeAll()
        expect(taken.every((c) => c.kind === 'push')).toBe(true)
        const ownersOf = async (messageId: number) =>
          (await Promise.all(pushedFor(taken, messageId).map((id) => store.getPushSubscription(id)))).map((s) => s!.userId).sort((a, b) => a - b)
        expect(await ownersOf(plain.id)).toEqual([carol.id])
        expect(await ownersOf(mentioning.id)).toEqual([bob.id, carol.id])
        expect(await ownersOf(inDirect.id)).toEqual([alice.id])
      })

      it('a batch of concurrent posts makes each post\'s calls, and JOIN/LEAVE messages make none', async () => {
        const alice = await user()
        const [b1, b2] = [await bot(), await bot()]
        const member = await user()
        const r = await room(alice, [b1, b2])
        await subscribe(member)
        await store.addParticipant(r.id, member.id, now())
        await store.setNotificationLevel(r.id, member.id, 'all')
        const posts = await Promise.all(
          Array.from({ length: 12 }, (_, i) => post(r.id, alice, `m${i}`, i % 3 === 0 ? [b1] : i % 3 === 1 ? [b2, b1] : [])),
        )
        await store.removeParticipant(r.id, b2.id, now())
        const expected = posts.flatMap((m, i) => [
          ...(i % 3 === 0 ? [`webhook:${b1.id}:${m.id}`] : i % 3 === 1 ? [`webhook:${b1.id}:${m.id}`, `webhook:${b2.id}:${m.id}`] : []),
          `push:*:${m.id}`,
        ])
        const got = calls(await takeAll()).map((c) => (c.startsWith('push:') ? c.replace(/^push:\d+:/, 'push:*:') : c))
        expect(got).toEqual(expected.sort())
      })
    })

    describe('claims', () => {
      /** Mentions of a bot with a webhook: one call per message. */
      async function queue(count: number, bots = 1) {
        const alice = await user()
        const hooks = await Promise.all(Array.from({ length: bots }, () => bot()))
        const r = await room(alice, hooks)
        for (let i = 0; i < count; i++) await post(r.id, alice, `m${i}`, [hooks[i % bots]!])
        return hooks
      }

      it('two workers claiming at once never take the same call, and together take every due one', async () => {
        await queue(40, 8)
        const other = await fixture.another()
        const at = now() + 10
        const claim = (s: Store) => s.claimOutgoing({ now: at, leaseUntil: at + 30_000, limit: 7, perTarget: 100, inFlight: new Map() })
        const ids: number[] = []
        // A claim may pass over the rows a concurrent one is taking ("up to limit"), but every
        // round of concurrent claims takes some while any are left.
        for (let round = 0; round < 40; round++) {
          const taken = (await Promise.all([claim(store), claim(other), claim(store), claim(other)])).flat()
          if (taken.length === 0) break
          ids.push(...taken.map((c) => c.id))
        }
        expect(new Set(ids).size).toBe(ids.length)
        expect(ids.length).toBe(40)
        expect(await claim(store)).toEqual([])
      })

      it('a claimed call is nobody else\'s until its lease runs out, then it is taken again with the next attempt', async () => {
        await queue(1)
        const other = await fixture.another()
        const [first] = await store.claimOutgoing({ now: 5_000, leaseUntil: 6_000, limit: 10, perTarget: 4, inFlight: new Map() })
        expect(first!.attempts).toBe(1)
        expect(await other.claimOutgoing({ now: 5_999, leaseUntil: 9_000, limit: 10, perTarget: 4, inFlight: new Map() })).toEqual([])
        const [again] = await other.claimOutgoing({ now: 6_000, leaseUntil: 9_000, limit: 10, perTarget: 4, inFlight: new Map() })
        expect(again).toEqual({ ...first!, attempts: 2 })
      })

      it('attempts fence the outcome: a stale worker\'s finish or retry changes nothing, the current one\'s does', async () => {
        await queue(1)
        const [stale] = await store.claimOutgoing({ now: 5_000, leaseUntil: 6_000, limit: 10, perTarget: 4, inFlight: new Map() })
        const [current] = await store.claimOutgoing({ now: 6_000, leaseUntil: 7_000, limit: 10, perTarget: 4, inFlight: new Map() })
        await store.finishOutgoing(stale!.id, stale!.attempts)
        await store.retryOutgoing(stale!.id, stale!.attempts, 6_500)
        expect(await store.claimOutgoing({ now: 6_999, leaseUntil: 8_000, limit: 10, perTarget: 4, inFlight: new Map() })).toEqual([])
        expect((await store.outgoingBacklog()).pending).toBe(1)
        await store.retryOutgoing(current!.id, current!.attempts, 6_500)
        const [retried] = await store.claimOutgoing({ now: 6_500, leaseUntil: 8_000, limit: 10, perTarget: 4, inFlight: new Map() })
        expect(retried).toEqual({ ...current!, attempts: 3 })
        await store.finishOutgoing(retried!.id, retried!.attempts)
        expect(await store.outgoingBacklog()).toEqual({ pending: 0, oldestAt: null })
      })

      it('keeps each target within its share, counting the calls in flight; oldest due first', async () => {
        const [b1, b2] = await queue(10, 2)
        const taken = await store.claimOutgoing({ now: FAR, leaseUntil: FAR + 1, limit: 10, perTarget: 3, inFlight: new Map([[`webhook:${b1!.id}`, 2]]) })
        // Those leases have run out (due again at FAR + 1, after the others): b2 is at its share
        // in flight, so b1's three oldest due come.
        const b1Only = await store.claimOutgoing({ now: FAR + 1, leaseUntil: FAR + 2, limit: 10, perTarget: 3, inFlight: new Map([[`webhook:${b2!.id}`, 3]]) })
        const all = await takeAll(store, FAR + 2)
        expect(all).toHaveLength(10)
        const oldest = (target: number, n: number) => all.filter((c) => c.targetId === target).map((c) => c.id).slice(0, n)
        const ids = (list: OutgoingCall[]) => list.map((c) => c.id)
        expect(ids(taken)).toEqual([...oldest(b1!.id, 1), ...oldest(b2!.id, 3)].sort((a, b) => a - b))
        expect(ids(b1Only)).toEqual(oldest(b1!.id, 5).filter((id) => !ids(taken).includes(id)).slice(0, 3))
      })

      it('the backlog counts waiting calls, taken or not, and the oldest one\'s time', async () => {
        expect(await store.outgoingBacklog()).toEqual({ pending: 0, oldestAt: null })
        const alice = await user()
        const hook = await bot()
        const r = await room(alice, [hook])
        const first = await post(r.id, alice, 'a', [hook])
        await post(r.id, alice, 'b', [hook])
        await store.claimOutgoing({ now: FAR, leaseUntil: FAR + 1, limit: 1, perTarget: 4, inFlight: new Map() })
        expect(await store.outgoingBacklog()).toEqual({ pending: 2, oldestAt: first.createdAt })
        await store.deleteMessage(r.id, first.id, now())
        expect((await store.outgoingBacklog()).pending).toBe(1)
      })
    })

    describe('bots and server keys', () => {
      it('webhookOf answers an active bot\'s webhook only; listBots shows each bot\'s last try and waiting calls', async () => {
        const alice = await user()
        const [hooked, silent] = [await bot('http://127.0.0.1:1/a'), await bot(null)]
        expect(await store.webhookOf(hooked.id)).toEqual({ url: 'http://127.0.0.1:1/a', secret: 'secret' })
        expect(await store.webhookOf(silent.id)).toBeNull()
        expect(await store.webhookOf(alice.id)).toBeNull()
        const r = await room(alice, [hooked])
        await post(r.id, alice, 'x', [hooked])
        await store.recordWebhookDelivery(hooked.id, { at: 5, ok: false, status: null, error: 'timeout' })
        await store.recordWebhookDelivery(hooked.id, { at: 6, ok: true, status: 204, error: null })
        const list = await store.listBots(0, 10)
        expect(list).toEqual([
          { user: hooked, webhookUrl: 'http://127.0.0.1:1/a', lastDelivery: { at: 6, ok: true, status: 204, error: null }, pending: 1 },
          { user: silent, webhookUrl: null, lastDelivery: null, pending: 0 },
        ])
        expect(await store.listBots(hooked.id, 10)).toEqual([list[1]!])
        await store.setDeactivated(hooked.id, true, now())
        expect(await store.webhookOf(hooked.id)).toBeNull()
      })

      it('serverKey keeps the first value stored, also when instances ask at once', async () => {
        const other = await fixture.another()
        const answers = await Promise.all([store.serverKey('vapid', 'a'), other.serverKey('vapid', 'b'), store.serverKey('vapid', 'c')])
        expect(new Set(answers).size).toBe(1)
        expect(await other.serverKey('vapid', 'd')).toBe(answers[0]!)
      })
    })

    describe('push subscriptions', () => {
      it('one row per endpoint: saving it again moves it to the new user; delete needs the owner', async () => {
        const [alice, bob] = [await user(), await user()]
        const r = await room(bob, [alice])
        const endpoint = await subscribe(alice, 'http://127.0.0.1:1/push/shared')
        await subscribe(bob, 'http://127.0.0.1:1/push/shared')
        const [call] = await (async () => {
          await post(r.id, alice, 'to bob', [bob])
          return takeAll()
        })()
        const sub = (await store.getPushSubscription(call!.targetId))!
        expect(sub).toEqual({ id: call!.targetId, userId: bob.id, endpoint, p256dh: 'key', auth: 'auth' })
        expect(await store.deletePushSubscription(alice.id, endpoint)).toBe(false)
        expect(await store.deletePushSubscription(bob.id, endpoint)).toBe(true)
        expect(await store.getPushSubscription(sub.id)).toBeNull()
        await subscribe(bob, 'http://127.0.0.1:1/push/again')
        await post(r.id, alice, 'again', [bob])
        const [next] = await takeAll()
        await store.removePushSubscription(next!.targetId)
        expect(await store.getPushSubscription(next!.targetId)).toBeNull()
      })
    })

    describe('search', () => {
      const search = (userId: number, text: string, extra: { roomId?: number; beforeId?: number; limit?: number } = {}) =>
        store.searchMessages({ userId, text, limit: 20, ...extra })
      const contents = (list: MessageRecord[]) => list.map((m) => m.content)

      it('every word must start a word of the message, case and Latin accents ignored, any script', async () => {
        const alice = await user()
        const r = await room(alice)
        await post(r.id, alice, 'Deployment finished at the Café')
        await post(r.id, alice, '오늘 채팅방에서 만나요')
        await post(r.id, alice, 'ÉCOLE élève naïve')
        await post(r.id, alice, 'mail ops@example.com or see deploy.sh, docs/readme')
        await post(r.id, alice, 'Привет мир')
        expect(contents(await search(alice.id, 'deploy'))).toEqual(['mail ops@example.com or see deploy.sh, docs/readme', 'Deployment finished at the Café'])
        expect(contents(await search(alice.id, 'cafe DEPLOY'))).toEqual(['Deployment finished at the Café'])
        expect(contents(await search(alice.id, 'café'))).toEqual(['Deployment finished at the Café'])
        expect(contents(await search(alice.id, '채팅'))).toEqual(['오늘 채팅방에서 만나요'])
        expect(contents(await search(alice.id, 'ecole ELEVE naive'))).toEqual(['ÉCOLE élève naïve'])
        expect(contents(await search(alice.id, 'example readme'))).toEqual(['mail ops@example.com or see deploy.sh, docs/readme'])
        expect(contents(await search(alice.id, 'привет'))).toEqual(['Привет мир'])
        expect(await search(alice.id, 'ployment')).toEqual([])
        expect(await search(alice.id, 'deploy missing')).toEqual([])
      })

      it('words of the query are never query syntax', async () => {
        const alice = await user()
        const r = await room(alice)
        await post(r.id, alice, 'rock & roll: a|b !important it\'s "quoted" back\\slash')
        for (const text of ['&', '|', '!', ':*', "'", '"', '\\', '(', ')', '<->', '*', 'a:*', "it's", '"quoted"', 'rock & !roll', 'a|b', 'back\\slash', ') | (', '\u0000']) {
          const found = await search(alice.id, text)
          expect(found.length).toBeLessThanOrEqual(1)
        }
        expect(contents(await search(alice.id, 'rock & !roll'))).toHaveLength(1)
        expect(contents(await search(alice.id, '"quoted"'))).toHaveLength(1)
        expect(await search(alice.id, '!nothing')).toEqual([])
        expect(await search(alice.id, '&&& ||| !!!')).toEqual([])
      })

      it('deleted messages never match, an edited one matches its current content only, JOIN/LEAVE never', async () => {
        const [alice, bob] = [await user(), await user()]
        const r = await room(alice)
        const gone = await post(r.id, alice, 'vanishing words')
        const changed = await post(r.id, alice, 'original words')
        await store.deleteMessage(r.id, gone.id, now())
        await store.editMessage({ roomId: r.id, messageId: changed.id, content: 'replacement text', mentions: [], now: now() })
        await store.addParticipant(r.id, bob.id, now())
        expect(await search(alice.id, 'vanishing')).toEqual([])
        expect(await search(alice.id, 'original')).toEqual([])
        expect((await search(alice.id, 'replacement')).map((m) => [m.id, m.editedAt !== null])).toEqual([[changed.id, true]])
        const joined = (await store.history({ roomId: r.id, limit: 10 })).find((m) => m.messageType === 'JOIN')!
        expect(joined).toBeDefined()
        for (const word of joined.content.split(/\W+/).filter(Boolean)) {
          expect((await search(alice.id, word)).some((m) => m.messageType !== 'MESSAGE')).toBe(false)
        }
      })

      it('only the rooms the user is in now, or the one room asked; newest first, older than beforeId, limit', async () => {
        const [alice, bob] = [await user(), await user()]
        const mine = await room(alice, [bob])
        const theirs = await room(bob)
        const left = await room(bob, [alice])
        const posted: MessageRecord[] = []
        for (let i = 0; i < 5; i++) posted.push(await post(mine.id, bob, `report ${i}`))
        await post(theirs.id, bob, 'report secret')
        await post(left.id, bob, 'report old')
        await store.removeParticipant(left.id, alice.id, now())
        expect((await search(alice.id, 'report')).map((m) => m.id)).toEqual(posted.map((m) => m.id).reverse())
        expect((await search(alice.id, 'report', { limit: 2 })).map((m) => m.id)).toEqual([posted[4]!.id, posted[3]!.id])
        expect((await search(alice.id, 'report', { beforeId: posted[3]!.id, limit: 2 })).map((m) => m.id)).toEqual([posted[2]!.id, posted[1]!.id])
        expect(contents(await search(alice.id, 'report', { roomId: theirs.id }))).toEqual(['report secret'])
        expect(await search(alice.id, 'report', { limit: 0 })).toEqual([])
        const record = (await search(alice.id, 'report 4'))[0]!
        expect(record).toEqual(posted[4]!)
      })
    })
  })
}
