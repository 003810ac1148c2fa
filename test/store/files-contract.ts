/**
 * The file guarantees of `Store` (src/store/store.ts), written as a suite any implementation
 * can run (`runFileStoreContract(name, makeStore)`, like test/store/contract.ts; run by
 * test/attachments-store.test.ts on SQLite and test/store/postgres-files.test.ts on PostgreSQL): files are
 * claimed by one post only and only when they are the sender's unattached uploads in that
 * room; a message's files travel with it in every read; deleting the message, the room, or an
 * old unattached upload deletes the rows and queues their disk copies for removal.
 */
import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import { UnattachableFilesError, type FileRecord, type RoomRecord, type Store, type UserRecord } from '../../src/store/store'

export function runFileStoreContract(name: string, makeStore: () => Promise<{ store: Store; cleanup(): Promise<void> }>) {
  describe(`Store files contract: ${name}`, () => {
    let store: Store
    let cleanup: () => Promise<void>
    let clock = 1_000
    const now = () => ++clock

    beforeEach(async () => {
      ;({ store, cleanup } = await makeStore())
    })
    afterEach(() => cleanup())

    let users = 0
    let keys = 0
    const user = async (): Promise<UserRecord> => (await store.createUser({ username: `user${++users}`, displayName: 'U', passwordHash: 'x', now: now() }))!
    const room = (owner: UserRecord, others: UserRecord[] = []): Promise<RoomRecord> =>
      store.createRoom({ name: 'r', visibility: 'private', ownerId: owner.id, participantIds: others.map((u) => u.id), now: now() })
    const tryUpload = (roomId: number, uploader: UserRecord, at = now()) =>
      store.createFile({ roomId, uploaderId: uploader.id, name: 'a.png', contentType: 'image/png', size: 10, width: 3, height: 2, storageKey: (++keys).toString(16).padStart(32, '0'), createdAt: at })
    const upload = async (roomId: number, uploader: UserRecord, at = now()): Promise<FileRecord> => (await tryUpload(roomId, uploader, at))!
    const post = (roomId: number, sender: UserRecord, attachmentIds: number[], clientMessageId: string | null = null) =>
      store.postMessage({ roomId, senderId: sender.id, content: '', clientMessageId, replyToId: null, mentions: [], attachmentIds, now: now() })
    const asAttachment = ({ id, name, contentType, size, width, height }: FileRecord) => ({ id, name, contentType, size, width, height })

    it('records no upload for a room the uploader is not in (any more)', async () => {
      const [alice, bob] = [await user(), await user()]
      const r = await room(alice)
      expect(await tryUpload(r.id, bob)).toBeNull()
      await store.deleteRoom(r.id)
      expect(await tryUpload(r.id, alice)).toBeNull()
    })

    it('a post takes the files in the order given, and every read of the message carries them', async () => {
      const [alice, bob] = [await user(), await user()]
      const r = await room(alice, [bob])
      const [a, b] = [await upload(r.id, alice), await upload(r.id, alice)]
      const start = await store.maxEventId()
      const { message } = await post(r.id, alice, [b.id, a.id])
      const expected = [asAttachment(b), asAttachment(a)]
      expect(message.attachments).toEqual(expected)
      expect((await store.getMessage(r.id, message.id))!.attachments).toEqual(expected)
      expect((await store.history({ roomId: r.id, limit: 10 })).at(-1)!.attachments).toEqual(expected)
      const [event] = await store.roomEventsAfter(r.id, start, 10)
      expect(event!.kind === 'message' && event!.message.attachments).toEqual(expected)
      expect((await store.roomSummaries(bob.id))[0]!.lastMessage!.attachments).toEqual(expected)
      expect((await store.getFile(a.id))!.messageId).toBe(message.id)
    })

    it('refuses, writing nothing, files that are not the sender\'s unattached uploads in that room', async () => {
      const [alice, bob] = [await user(), await user()]
      const r = await room(alice, [bob])
      const other = await room(alice)
      const bobs = await upload(r.id, bob)
      const elsewhere = await upload(other.id, alice)
      const taken = await upload(r.id, alice)
      await post(r.id, alice, [taken.id])
      const mine = await upload(r.id, alice)
      const before = await store.maxEventId()
      for (const ids of [[bobs.id], [elsewhere.id], [taken.id], [mine.id, mine.id], [mine.id, 999]]) {
        await expect(post(r.id, alice, ids)).rejects.toBeInstanceOf(UnattachableFilesError)
      }
      expect(await store.maxEventId()).toBe(before)
      expect((await store.getFile(mine.id))!.messageId).toBeNull()
    })

    it('a repeat of a clientMessageId whose post took the files returns the first message', async () => {
      const alice = await user()
      const r = await room(alice)
      const file = await upload(r.id, alice)
      const first = await post(r.id, alice, [file.id], 'once')
      const again = await post(r.id, alice, [file.id], 'once')
      expect(again).toEqual({ message: first.message, created: false })
    })

    it('deleting the message or the room deletes the files and queues their disk copies; forgetting empties the queue', async () => {
      const alice = await user()
      const r = await room(alice)
      const posted = await upload(r.id, alice)
      const { message } = await post(r.id, alice, [posted.id])
      await store.deleteMessage(r.id, message.id, now())
      expect(await store.getFile(posted.id)).toBeNull()
      expect(await store.pendingFileRemovals(10)).toEqual([posted.storageKey])
      await store.fileRemoved([posted.storageKey])
      expect(await store.pendingFileRemovals(10)).toEqual([])

      const [draft, attached] = [await upload(r.id, alice), await upload(r.id, alice)]
      await post(r.id, alice, [attached.id])
      await store.deleteRoom(r.id)
      expect((await store.pendingFileRemovals(10)).sort()).toEqual([draft.storageKey, attached.storageKey].sort())
    })

    it('the sweep deletes unattached uploads older than the cutoff, only those', async () => {
      const alice = await user()
      const r = await room(alice)
      const old = await upload(r.id, alice, 100)
      const oldPosted = await upload(r.id, alice, 100)
      await post(r.id, alice, [oldPosted.id])
      const fresh = await upload(r.id, alice, 5_000)
      expect(await store.deleteUnattachedFiles(1_000)).toBe(1)
      expect(await store.getFile(old.id)).toBeNull()
      expect((await store.getFile(oldPosted.id))!.id).toBe(oldPosted.id)
      expect((await store.getFile(fresh.id))!.id).toBe(fresh.id)
      expect(await store.pendingFileRemovals(10)).toEqual([old.storageKey])
      expect(await store.knownStorageKeys([old.storageKey, fresh.storageKey, 'f'.repeat(32)])).toEqual(new Set([fresh.storageKey]))
    })
  })
}
