import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { InviteUnusableError, type Store, type UserRecord } from '../../src/store/store'

/**
 * The account guarantees of `Store` (users, sessions and tokens, resets, invites, the
 * revocation log), checked the same way against every implementation: `makeStore` gives a
 * new, empty store and a cleanup. The race-sensitive rules (the first account is the admin,
 * the last admin stays, an invite's last use, a reset link's one use, revocations readable in
 * id order) are raced for real: many calls in flight at once, spread over `store` and `peer`,
 * a second store on the same database (another process, another host), whose calls on
 * PostgreSQL run on connections of their own.
 */
export function runAccountsContract(name: string, makeStore: () => Promise<{ store: Store; peer: Store; cleanup(): Promise<void> }>) {
  describe(`Store contract, accounts: ${name}`, () => {
    let store: Store
    let peer: Store
    let cleanup: () => Promise<void>
    let clock = 1_000_000
    const now = () => ++clock
    const HOUR = 3_600_000
    /** The store the i-th of many racing calls goes to: every other one on the other host. */
    const host = (i: number) => (i % 2 === 0 ? store : peer)

    beforeEach(async () => {
      ;({ store, peer, cleanup } = await makeStore())
    })
    afterEach(() => cleanup())

    let users = 0
    const user = async (role?: 'admin' | 'member', username = `user${++users}`): Promise<UserRecord> =>
      (await store.createUser({ username, displayName: `User ${users}`, passwordHash: `hash-${username}`, now: now(), role }))!
    const hash = () => crypto.getRandomValues(new Uint8Array(32))
    const session = async (userId: number, extra: { expiresAt?: number | null; kind?: 'session' | 'token'; name?: string } = {}) => {
      const tokenHash = hash()
      const id = await store.createSession({ userId, tokenHash, now: now(), expiresAt: extra.expiresAt === undefined ? clock + HOUR : extra.expiresAt, kind: extra.kind, name: extra.name })
      return { id, tokenHash }
    }
    /** The revocations logged from here on, as [userId, sessionId]. */
    const revocationsSince = async (after: number) => (await store.revocationsAfter(after, 500)).map((r) => [r.userId, r.sessionId])
    const admins = async () => (await store.listUsers({ prefix: '', afterId: 0, limit: 500 })).filter((u) => u.role === 'admin' && u.deactivatedAt === null)

    describe('users', () => {
      it('makes the first account the admin whatever it asks, later ones what they ask; a taken name is null', async () => {
        const first = await user('member')
        expect(first).toMatchObject({ role: 'admin', deactivatedAt: null, displayName: expect.any(String), createdAt: clock })
        expect((await user()).role).toBe('member')
        expect((await user('admin')).role).toBe('admin')
        expect(await store.createUser({ username: first.username, displayName: 'again', passwordHash: 'x', now: now() })).toBeNull()
        expect(await store.getUser(first.id)).toEqual(first)
      })

      it('makes exactly one admin of 20 first registrations racing', async () => {
        const made = await Promise.all(
          Array.from({ length: 20 }, (_, i) => host(i).createUser({ username: `racer${i}`, displayName: `Racer ${i}`, passwordHash: 'x', now: now() })),
        )
        expect(made.every((u) => u !== null)).toBe(true)
        expect(made.filter((u) => u!.role === 'admin')).toHaveLength(1)
        expect(await admins()).toHaveLength(1)
      })

      it('finds users by id and username, credentials with the hash (deactivated users and bots too)', async () => {
        const alice = await user()
        const bob = await user()
        await store.setDeactivated(bob.id, true, now())
        expect(await store.findUserByUsername(alice.username)).toEqual(alice)
        expect(await store.findCredentials(alice.username)).toEqual({ user: alice, passwordHash: `hash-${alice.username}` })
        expect((await store.findCredentials(bob.username))!.user.deactivatedAt).not.toBeNull()
        const bot = (await store.createBot({ username: 'robot', displayName: 'Robot', webhookUrl: null, tokenHash: hash(), now: now() }))!
        expect(await store.findCredentials('robot')).toEqual({ user: bot, passwordHash: '' })
        expect(await store.getUser(alice.id + 1000)).toBeNull()
        expect(await store.findUserByUsername('nobody')).toBeNull()
        expect(await store.findCredentials('nobody')).toBeNull()
      })

      it('makes a bot with its access token and webhook (url and secret), never the first admin; a taken name is null', async () => {
        const tokenHash = hash()
        const bot = (await store.createBot({ username: 'hook', displayName: 'Hook', webhookUrl: 'http://127.0.0.1:9/hook', webhookSecret: 's3cret', tokenHash, now: now() }))!
        expect(bot).toMatchObject({ username: 'hook', role: 'bot', deactivatedAt: null })
        expect(await store.webhookOf(bot.id)).toEqual({ url: 'http://127.0.0.1:9/hook', secret: 's3cret' })
        const found = (await store.findSession(tokenHash, now()))!
        expect(found).toMatchObject({ user: bot, kind: 'token', expiresAt: null })
        expect(await store.listTokens(bot.id, now(), 10)).toEqual([{ id: found.id, name: 'bot', createdAt: bot.createdAt, expiresAt: null, lastUsedAt: null }])
        const quiet = (await store.createBot({ username: 'quiet', displayName: 'Quiet', webhookUrl: null, tokenHash: hash(), now: now() }))!
        expect(await store.webhookOf(quiet.id)).toBeNull()
        expect(await store.createBot({ username: 'hook', displayName: 'Again', webhookUrl: null, tokenHash: hash(), now: now() })).toBeNull()
        expect((await user()).role).toBe('member')
      })

      it('searches active users by username or display name prefix, case-insensitive, merged by username', async () => {
        const anna = await user(undefined, 'anna')
        const zed = (await store.createUser({ username: 'zed', displayName: 'Annabel Zed', passwordHash: 'x', now: now() }))!
        const andy = await user(undefined, 'andy')
        const gone = await user(undefined, 'annex')
        await store.createUser({ username: 'bob', displayName: 'Bob', passwordHash: 'x', now: now() })
        await store.setDeactivated(gone.id, true, now())
        expect((await store.searchUsers('AN', 10)).map((u) => u.username)).toEqual(['andy', 'anna', 'zed'])
        expect((await store.searchUsers('ann', 10)).map((u) => u.id)).toEqual([anna.id, zed.id])
        expect((await store.searchUsers('annab', 10)).map((u) => u.id)).toEqual([zed.id])
        expect((await store.searchUsers('an', 2)).map((u) => u.id)).toEqual([andy.id, anna.id])
        expect(await store.searchUsers('x', 10)).toEqual([])
        expect((await store.searchUsers('', 3)).map((u) => u.username)).toEqual(['andy', 'anna', 'bob'])
        expect((await store.searchUsers('an%', 10))).toEqual([])
      })

      it('lists every user by id after a cursor, deactivated ones too, by the same prefix rule', async () => {
        const made = [await user(), await user(), await user()]
        const named = (await store.createUser({ username: 'q', displayName: 'User Q', passwordHash: 'x', now: now() }))!
        await store.setDeactivated(made[1]!.id, true, now())
        const all = await store.listUsers({ prefix: '', afterId: 0, limit: 10 })
        expect(all.map((u) => u.id)).toEqual([...made.map((u) => u.id), named.id])
        expect((await store.listUsers({ prefix: '', afterId: made[0]!.id, limit: 2 })).map((u) => u.id)).toEqual([made[1]!.id, made[2]!.id])
        expect((await store.listUsers({ prefix: 'USER', afterId: 0, limit: 10 })).map((u) => u.id)).toEqual(all.map((u) => u.id))
        expect((await store.listUsers({ prefix: 'q', afterId: 0, limit: 10 })).map((u) => u.id)).toEqual([named.id])
        expect((await store.listUsers({ prefix: 'user q', afterId: 0, limit: 10 })).map((u) => u.id)).toEqual([named.id])
      })

      it('renames (logging an account change); an unknown user is null', async () => {
        const alice = await user()
        const mark = await store.lastRevocationId()
        expect(await store.updateDisplayName(alice.id, 'Alice Liddell', now())).toEqual({ ...alice, displayName: 'Alice Liddell' })
        expect(await revocationsSince(mark)).toEqual([[alice.id, null]])
        expect(await store.updateDisplayName(alice.id + 1000, 'x', now())).toBeNull()
      })

      it('knows which ids are active users', async () => {
        const [a, b, c] = [await user(), await user(), await user()]
        await store.setDeactivated(b.id, true, now())
        expect(await store.activeUserIds([a.id, b.id, c.id, c.id + 1000])).toEqual(new Set([a.id, c.id]))
        expect(await store.activeUserIds([])).toEqual(new Set())
      })
    })

    describe('roles', () => {
      it('promotes and demotes (logged); refuses the last active admin; a bot or an unknown user is missing', async () => {
        const root = await user()
        const bob = await user()
        expect(await store.setRole(root.id, 'member', now())).toBe('last-admin')
        const mark = await store.lastRevocationId()
        expect(await store.setRole(bob.id, 'admin', now())).toEqual({ ...bob, role: 'admin' })
        expect(await store.setRole(root.id, 'member', now())).toEqual({ ...root, role: 'member' })
        expect(await revocationsSince(mark)).toEqual([[bob.id, null], [root.id, null]])
        expect(await store.setRole(bob.id, 'member', now())).toBe('last-admin')
        const bot = (await store.createBot({ username: 'b0t', displayName: 'Bot', webhookUrl: null, tokenHash: hash(), now: now() }))!
        expect(await store.setRole(bot.id, 'admin', now())).toBe('missing')
        expect(await store.setRole(bob.id + 1000, 'member', now())).toBe('missing')
        // A deactivated admin does not count as the one left.
        expect(await store.setRole(root.id, 'admin', now())).toMatchObject({ role: 'admin' })
        expect(await store.setDeactivated(root.id, true, now())).toMatchObject({ user: { role: 'admin' } })
        expect(await store.setRole(bob.id, 'member', now())).toBe('last-admin')
        expect(await store.setRole(root.id, 'member', now())).toMatchObject({ role: 'member' })
      })

      it('keeps one admin when two admins demote each other at once (and when they deactivate each other)', async () => {
        for (let round = 0; round < 8; round++) {
          const [a, b] = round === 0 ? [await user(), await user('admin')] : [await user('admin'), await user('admin')]
          for (const other of await admins()) if (other.id !== a.id && other.id !== b.id) await store.setRole(other.id, 'member', now())
          const change = (on: Store, id: number) => (round % 2 === 0 ? on.setRole(id, 'member', now()) : on.setDeactivated(id, true, now()))
          const outcomes = await Promise.all([change(store, a.id), change(peer, b.id)])
          expect(outcomes.filter((o) => o === 'last-admin')).toHaveLength(1)
          expect(await admins()).toHaveLength(1)
        }
      })
    })

    describe('deactivation', () => {
      it('ends every session, token and reset link (logged: the sessions, then the account); reactivation logs the account', async () => {
        const admin = await user()
        const bob = await user()
        const s1 = await session(bob.id)
        const t1 = await session(bob.id, { kind: 'token', name: 'ci', expiresAt: null })
        const other = await session(admin.id)
        const reset = hash()
        await store.createPasswordReset({ userId: bob.id, tokenHash: reset, now: now(), expiresAt: clock + HOUR })
        const mark = await store.lastRevocationId()
        const result = await store.setDeactivated(bob.id, true, now())
        expect(result).toEqual({ user: { ...bob, deactivatedAt: clock }, endedSessionIds: [s1.id, t1.id] })
        expect(await revocationsSince(mark)).toEqual([[bob.id, s1.id], [bob.id, t1.id], [bob.id, null]])
        expect(await store.findSession(s1.tokenHash, now())).toBeNull()
        expect(await store.passwordResetLive(reset, now())).toBe(false)
        expect(await store.sessionAlive(other.id, now())).toBe(true)
        // Again: still deactivated at the first time, nothing more to end.
        expect(await store.setDeactivated(bob.id, true, now())).toEqual(result && { user: (result as { user: UserRecord }).user, endedSessionIds: [] })
        const mark2 = await store.lastRevocationId()
        expect(await store.setDeactivated(bob.id, false, now())).toEqual({ user: bob, endedSessionIds: [] })
        expect(await revocationsSince(mark2)).toEqual([[bob.id, null]])
        expect(await store.setDeactivated(bob.id + 1000, true, now())).toBe('missing')
        expect(await store.setDeactivated(bob.id + 1000, false, now())).toBe('missing')
        expect(await store.setDeactivated(admin.id, true, now())).toBe('last-admin')
      })
    })

    describe('passwords', () => {
      it('a new password ends the signed-in sessions but the kept one; tokens stay; reset links go', async () => {
        const alice = await user()
        const [keep, other] = [await session(alice.id), await session(alice.id)]
        const token = await session(alice.id, { kind: 'token', name: 't', expiresAt: null })
        const reset = hash()
        await store.createPasswordReset({ userId: alice.id, tokenHash: reset, now: now(), expiresAt: clock + HOUR })
        const mark = await store.lastRevocationId()
        expect(await store.setPassword(alice.id, 'new-hash', keep.id, now())).toEqual([other.id])
        expect((await store.findCredentials(alice.username))!.passwordHash).toBe('new-hash')
        expect(await revocationsSince(mark)).toEqual([[alice.id, other.id]])
        expect(await store.sessionAlive(keep.id, now())).toBe(true)
        expect(await store.sessionAlive(token.id, now())).toBe(true)
        expect(await store.passwordResetLive(reset, now())).toBe(false)
        expect(await store.setPassword(alice.id, 'newer', null, now())).toEqual([keep.id])
      })
    })

    describe('sessions and access tokens', () => {
      it('finds a live session of an active user with its record; not once expired, nor of a deactivated user', async () => {
        const admin = await user()
        const alice = await user()
        const until = clock + 100
        const s = await session(alice.id, { expiresAt: until })
        clock = until - 100
        expect(await store.findSession(s.tokenHash, clock)).toEqual({ id: s.id, user: alice, kind: 'session', expiresAt: until, lastUsedAt: null })
        expect(await store.findSession(hash(), clock)).toBeNull()
        expect(await store.sessionAlive(s.id, clock + 99)).toBe(true)
        expect(await store.findSession(s.tokenHash, clock + 100)).toBeNull()
        expect(await store.sessionAlive(s.id, clock + 100)).toBe(false)
        await store.extendSession(s.id, clock + 500)
        expect((await store.findSession(s.tokenHash, clock + 100))!.expiresAt).toBe(clock + 500)
        await store.touchSession(s.id, 4242)
        expect((await store.findSession(s.tokenHash, clock))!.lastUsedAt).toBe(4242)
        await store.setDeactivated(alice.id, false, now())
        const t = await session(admin.id, { kind: 'token', name: 'forever', expiresAt: null })
        expect(await store.findSession(t.tokenHash, Number.MAX_SAFE_INTEGER)).toMatchObject({ kind: 'token', expiresAt: null })
        await store.setDeactivated(alice.id, true, now())
        expect(await store.sessionAlive(s.id, clock)).toBe(false)
      })

      it('ends a session once (logged); expired rows go when their user next makes one', async () => {
        const alice = await user()
        const s = await session(alice.id)
        const mark = await store.lastRevocationId()
        expect(await store.deleteSession(s.id, now())).toBe(true)
        expect(await store.deleteSession(s.id, now())).toBe(false)
        expect(await revocationsSince(mark)).toEqual([[alice.id, s.id]])
        const old = await session(alice.id, { expiresAt: clock + 1 })
        clock += 10
        await session(alice.id)
        expect(await store.deleteSession(old.id, now())).toBe(false)
      })

      it('lists a user\'s live access tokens newest first, bounded; ends only their own tokens (logged)', async () => {
        const alice = await user()
        const bob = await user()
        const signedIn = await session(alice.id)
        const t1 = await session(alice.id, { kind: 'token', name: 'one', expiresAt: null })
        const t2Expiry = clock + 100
        const t2 = await session(alice.id, { kind: 'token', name: 'two', expiresAt: t2Expiry })
        const expired = await session(alice.id, { kind: 'token', name: 'old', expiresAt: clock + 1 })
        await session(bob.id, { kind: 'token', name: 'bobs', expiresAt: null })
        const listed = await store.listTokens(alice.id, clock + 5, 10)
        expect(listed.map((t) => [t.id, t.name])).toEqual([[t2.id, 'two'], [t1.id, 'one']])
        expect(listed[0]).toEqual({ id: t2.id, name: 'two', createdAt: expect.any(Number), expiresAt: t2Expiry, lastUsedAt: null })
        expect(await store.listTokens(alice.id, clock + 5, 1)).toHaveLength(1)
        expect(await store.listTokens(alice.id, clock + 5, -1)).toEqual([])
        const mark = await store.lastRevocationId()
        expect(await store.deleteToken(bob.id, t1.id, now())).toBe(false)
        expect(await store.deleteToken(alice.id, signedIn.id, now())).toBe(false)
        expect(await store.deleteToken(alice.id, t1.id, now())).toBe(true)
        expect(await store.deleteToken(alice.id, t1.id, now())).toBe(false)
        expect(await revocationsSince(mark)).toEqual([[alice.id, t1.id]])
        expect(expired.id).toBeGreaterThan(t2.id)
      })
    })

    describe('password resets', () => {
      it('takes a live link once: sets the password, ends signed-in sessions (not tokens), opens a new session', async () => {
        const alice = await user()
        const before = await session(alice.id)
        const token = await session(alice.id, { kind: 'token', name: 't', expiresAt: null })
        const earlier = hash()
        const link = hash()
        await store.createPasswordReset({ userId: alice.id, tokenHash: earlier, now: now(), expiresAt: clock + HOUR })
        await store.createPasswordReset({ userId: alice.id, tokenHash: link, now: now(), expiresAt: clock + HOUR })
        expect(await store.passwordResetLive(earlier, now())).toBe(false)
        expect(await store.passwordResetLive(link, now())).toBe(true)
        const fresh = { tokenHash: hash(), expiresAt: clock + HOUR }
        const mark = await store.lastRevocationId()
        const done = (await store.resetPassword({ tokenHash: link, passwordHash: 'reset-hash', session: fresh, now: now() }))!
        expect(done).toEqual({ user: alice, sessionId: expect.any(Number), endedSessionIds: [before.id] })
        expect(await revocationsSince(mark)).toEqual([[alice.id, before.id]])
        expect((await store.findSession(fresh.tokenHash, now()))!.id).toBe(done.sessionId)
        expect(await store.sessionAlive(token.id, now())).toBe(true)
        expect((await store.findCredentials(alice.username))!.passwordHash).toBe('reset-hash')
        expect(await store.passwordResetLive(link, now())).toBe(false)
        expect(await store.resetPassword({ tokenHash: link, passwordHash: 'again', session: { tokenHash: hash(), expiresAt: clock + HOUR }, now: now() })).toBeNull()
      })

      it('refuses an expired link, and a link of a deactivated user', async () => {
        await user()
        const bob = await user()
        const expired = hash()
        await store.createPasswordReset({ userId: bob.id, tokenHash: expired, now: now(), expiresAt: clock + 5 })
        expect(await store.passwordResetLive(expired, clock + 5)).toBe(false)
        expect(await store.resetPassword({ tokenHash: expired, passwordHash: 'x', session: { tokenHash: hash(), expiresAt: clock + HOUR }, now: clock + 5 })).toBeNull()
        const link = hash()
        await store.createPasswordReset({ userId: bob.id, tokenHash: link, now: now(), expiresAt: clock + HOUR })
        await store.setDeactivated(bob.id, true, now())
        expect(await store.resetPassword({ tokenHash: link, passwordHash: 'x', session: { tokenHash: hash(), expiresAt: clock + HOUR }, now: now() })).toBeNull()
        expect((await store.findCredentials(bob.username))!.passwordHash).toBe(`hash-${bob.username}`)
      })

      it('lets one of 10 uses of a link racing in', async () => {
        const alice = await user()
        const link = hash()
        await store.createPasswordReset({ userId: alice.id, tokenHash: link, now: now(), expiresAt: clock + HOUR })
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => host(i).resetPassword({ tokenHash: link, passwordHash: `p${i}`, session: { tokenHash: hash(), expiresAt: clock + HOUR }, now: now() })),
        )
        expect(results.filter((r) => r !== null)).toHaveLength(1)
      })
    })

    describe('invites', () => {
      it('are made, found while live, listed newest first, deleted once', async () => {
        const admin = await user()
        const a = await store.createInvite({ token: 'invite-a', createdBy: admin.id, now: now(), expiresAt: clock + HOUR, maxUses: 2 })
        expect(a).toEqual({ token: 'invite-a', createdAt: clock, expiresAt: clock + HOUR, maxUses: 2, uses: 0 })
        const b = await store.createInvite({ token: 'invite-b', createdBy: null, now: now(), expiresAt: clock + 10, maxUses: null })
        expect(await store.findLiveInvite('invite-b', now())).toEqual(b)
        expect(await store.liveInvites(now(), 10)).toEqual([b, a])
        expect(await store.liveInvites(now(), 1)).toEqual([b])
        expect(await store.findLiveInvite('invite-b', b.expiresAt)).toBeNull()
        expect(await store.liveInvites(b.expiresAt, 10)).toEqual([a])
        expect(await store.findLiveInvite('nope', now())).toBeNull()
        expect(await store.deleteInvite('invite-a')).toBe(true)
        expect(await store.deleteInvite('invite-a')).toBe(false)
        expect(await store.findLiveInvite('invite-a', now())).toBeNull()
      })

      it('count a use per registration until used up; an unknown, used-up or expired one is refused; a taken name uses none', async () => {
        const admin = await user()
        await store.createInvite({ token: 'two', createdBy: admin.id, now: now(), expiresAt: clock + HOUR, maxUses: 2 })
        const register = (username: string, inviteToken: string) => store.createUser({ username, displayName: username, passwordHash: 'x', now: now(), inviteToken })
        expect(await register('guest1', 'two')).toMatchObject({ username: 'guest1', role: 'member' })
        expect(await register('guest1', 'two')).toBeNull()
        expect(await store.findLiveInvite('two', now())).toMatchObject({ uses: 1 })
        expect(await register('guest2', 'two')).toMatchObject({ username: 'guest2' })
        expect(await store.findLiveInvite('two', now())).toBeNull()
        expect(register('guest3', 'two')).rejects.toBeInstanceOf(InviteUnusableError)
        expect(register('guest3', 'nope')).rejects.toBeInstanceOf(InviteUnusableError)
        await store.createInvite({ token: 'late', createdBy: admin.id, now: now(), expiresAt: clock + 1, maxUses: null })
        clock += 5
        expect(register('guest3', 'late')).rejects.toBeInstanceOf(InviteUnusableError)
        expect(await store.findUserByUsername('guest3')).toBeNull()
      })

      it('let exactly as many in as they have uses when registrations race (1 of 10, 3 of 10)', async () => {
        const admin = await user()
        for (const uses of [1, 3]) {
          const token = `race-${uses}`
          await store.createInvite({ token, createdBy: admin.id, now: now(), expiresAt: clock + HOUR, maxUses: uses })
          const results = await Promise.allSettled(
            Array.from({ length: 10 }, (_, i) => host(i).createUser({ username: `${token}-${i}`, displayName: 'g', passwordHash: 'x', now: now(), inviteToken: token })),
          )
          expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(uses)
          const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
          expect(refused.every((r) => r.reason instanceof InviteUnusableError)).toBe(true)
          expect(await store.liveInvites(now(), 10)).toEqual([])
        }
      })

      it('make the first account of an empty database the admin through an invite from the command line too', async () => {
        await store.createInvite({ token: 'cli', createdBy: null, now: now(), expiresAt: clock + HOUR, maxUses: 5 })
        const results = await Promise.all(
          Array.from({ length: 5 }, (_, i) => host(i).createUser({ username: `cli${i}`, displayName: 'c', passwordHash: 'x', now: now(), inviteToken: 'cli' })),
        )
        expect(results.filter((u) => u!.role === 'admin')).toHaveLength(1)
      })
    })

    describe('the revocation log', () => {
      it('starts at 0, reads ascending in pages from a cursor, and prunes rows older than an hour when it writes', async () => {
        expect(await store.lastRevocationId()).toBe(0)
        expect(await store.revocationsAfter(0, 10)).toEqual([])
        const alice = await user()
        const sessions = [await session(alice.id), await session(alice.id), await session(alice.id)]
        for (const s of sessions) await store.deleteSession(s.id, now())
        const all = await store.revocationsAfter(0, 10)
        expect(all.map((r) => r.sessionId)).toEqual(sessions.map((s) => s.id))
        expect(all.every((r, i) => i === 0 || r.id > all[i - 1]!.id)).toBe(true)
        expect(await store.lastRevocationId()).toBe(all.at(-1)!.id)
        expect(await store.revocationsAfter(all[0]!.id, 1)).toEqual([all[1]!])
        await store.updateDisplayName(alice.id, 'Later', clock + HOUR + 10)
        const left = await store.revocationsAfter(0, 10)
        expect(left).toEqual([{ id: all.at(-1)!.id + 1, userId: alice.id, sessionId: null }])
      })

      it('misses nothing for a reader on one host following id > cursor while many sessions end and accounts change on both', async () => {
        await user()
        const people = await Promise.all(Array.from({ length: 30 }, () => user()))
        const sessions = await Promise.all(people.flatMap((p) => [session(p.id), session(p.id)]))
        const loose = await Promise.all(people.map((p) => session(p.id)))
        let cursor = await store.lastRevocationId()
        const seen: string[] = []
        let writing = true
        const reader = (async () => {
          for (let more = true; more; ) {
            more = writing
            const page = await peer.revocationsAfter(cursor, 500)
            for (const r of page) {
              seen.push(`${r.userId}:${r.sessionId}`)
              cursor = r.id
            }
            // A poll, not a spin: a store that answers synchronously underneath would never let the writers' timers run.
            if (page.length === 0) await Bun.sleep(1)
          }
        })()
        // A deactivation writes two rows (its sessions, then the account) a round trip apart: a
        // wide window for a later transaction's rows to commit first, were ids not taken in order.
        await Promise.all([
          ...people.map(async (p, i) => {
            await Bun.sleep(i % 5)
            await host(i).setDeactivated(p.id, true, now())
          }),
          ...loose.map(async (s, i) => {
            await Bun.sleep(i % 7)
            await host(i + 1).deleteSession(s.id, now())
          }),
        ])
        writing = false
        await reader
        const expected = [
          ...sessions.map((s, i) => `${people[i >> 1]!.id}:${s.id}`),
          ...people.map((p) => `${p.id}:null`),
          ...loose.map((s, i) => `${people[i]!.id}:${s.id}`),
        ]
        expect(seen.sort()).toEqual(expected.sort())
      })
    })
  })
}
