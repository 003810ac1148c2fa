import type { SQL } from 'bun'
import type { Outcome } from '../group-commit'
import { NotParticipantError, UnattachableFilesError, type AttachmentRecord, type MessageRecord, type Store } from '../store'
import type { Database } from './database'
import { MESSAGE_COLUMNS, toRecord, type Row } from './message-rows'
import { takeIds } from './messages-sequence'
import type { FileWriter } from './writers'

type PostInput = Parameters<Store['postMessage']>[0]
type Posted = { message: MessageRecord; created: boolean }
type ByClientId = (sql: SQL, senderId: number, roomId: number, clientMessageId: string) => Promise<MessageRecord | null>

/** A post of the batch that passed its checks, to be inserted. */
interface Accepted {
  index: number
  input: PostInput
  attachmentIds: number[]
  attachments: AttachmentRecord[]
}

const clientKey = (input: PostInput) =>
  input.clientMessageId === null ? null : `${input.senderId}:${input.roomId}:${input.clientMessageId}`

/**
 * The group commit's batch (createGroupCommit): the posts an instance received during one
 * turn of the event loop, in ONE transaction, each with its own outcome as the SQLite store's
 * batch gives it. A failed statement would abort the whole transaction, so every refusal is
 * decided by reads before anything is written:
 *
 * 1. One statement locks the rooms (FOR KEY SHARE) and then the senders' memberships
 *    (FOR NO KEY UPDATE: the sender's read marker is updated below, and a leave or a room
 *    deletion, which delete these rows, waits for this transaction; one that committed first
 *    took the row away and the post is NotParticipantError). Rooms before memberships and
 *    rows in key order: the order a room deletion locks them in, so the two never deadlock.
 * 2. Per post with files (rare): its first message under the same clientMessageId (a retry
 *    of a post that took these files finds them taken and gets the first), then the files
 *    through the file part, locked.
 * 3. One statement takes n numbers, inserts the n messages from one JSON parameter (ON
 *    CONFLICT DO NOTHING: a clientMessageId already used leaves its number unused), their
 *    mentions, and moves each sender's read marker to their last message. It is the only one
 *    holding the counter (messages-sequence.ts) with nothing left to wait for; the files'
 *    attach (rows already locked) and COMMIT follow.
 */
export function createPostBatch(db: Database, files: FileWriter, byClientId: ByClientId) {
  return (inputs: PostInput[]): Promise<Outcome<Posted>[]> =>
    db.tx(async (tx) => {
      const outcomes: Outcome<Posted>[] = new Array(inputs.length)
      const members = await lockMemberships(tx, inputs)
      const accepted: Accepted[] = []
      const acceptedByKey = new Map<string, Accepted>()
      const duplicates: { index: number; of: Accepted }[] = []
      const claimed = new Set<number>()

      for (const [index, input] of inputs.entries()) {
        // The service checked it before; this is the check a leave or a room deletion
        // committed since cannot slip past.
        if (!members.has(`${input.roomId}:${input.senderId}`)) {
          outcomes[index] = { error: new NotParticipantError('the sender is not in the room') }
          continue
        }
        // PostgreSQL text cannot hold NUL: refused alone, rather than failing the batch's insert.
        if (input.content.includes('\u0000')) {
          outcomes[index] = { error: new RangeError('content: NUL characters cannot be stored') }
          continue
        }
        const key = clientKey(input)
        const earlier = key === null ? undefined : acceptedByKey.get(key)
        if (earlier) {
          // The same post twice in one batch (a retry while the first was queued): the first's message.
          duplicates.push({ index, of: earlier })
          continue
        }
        const attachmentIds = input.attachmentIds ?? []
        let attachments: AttachmentRecord[] = []
        if (attachmentIds.length > 0) {
          if (input.clientMessageId !== null) {
            const first = await byClientId(tx, input.senderId, input.roomId, input.clientMessageId)
            if (first) {
              outcomes[index] = { ok: { message: first, created: false } }
              continue
            }
          }
          try {
            // A file an earlier post of this batch takes is taken (the file rows are not yet updated).
            if (attachmentIds.some((id) => claimed.has(id))) throw new UnattachableFilesError('not the sender\'s unattached uploads in this room')
            attachments = await files.claimable(tx, input.roomId, input.senderId, attachmentIds)
          } catch (error) {
            if (!(error instanceof UnattachableFilesError)) throw error
            // The first post under this clientMessageId may have committed while we waited for its files.
            const first = input.clientMessageId === null ? null : await byClientId(tx, input.senderId, input.roomId, input.clientMessageId)
            outcomes[index] = first ? { ok: { message: first, created: false } } : { error }
            continue
          }
          for (const id of attachmentIds) claimed.add(id)
        }
        const post = { index, input, attachmentIds, attachments }
        accepted.push(post)
        if (key !== null) acceptedByKey.set(key, post)
      }
      if (accepted.length === 0) return outcomes

      const inserted = await insertAll(tx, accepted)
      for (const post of accepted) {
        const message = inserted.get(post.index)
        if (message) {
          outcomes[post.index] = { ok: { message, created: true } }
          if (post.attachmentIds.length > 0) await files.attach(tx, message.id, post.attachmentIds)
          continue
        }
        // Its clientMessageId was taken by a post that committed first (ON CONFLICT waited for it).
        const { senderId, roomId, clientMessageId } = post.input
        const first = await byClientId(tx, senderId, roomId, clientMessageId!)
        outcomes[post.index] = first
          ? { ok: { message: first, created: false } }
          : { error: new Error('the first message under this clientMessageId was deleted meanwhile') }
      }
      for (const { index, of } of duplicates) {
        const first = outcomes[of.index]!
        outcomes[index] = 'ok' in first ? { ok: { message: first.ok.message, created: false } } : first
      }
      return outcomes
    })
}

/** The (room, sender) pairs of the batch that are memberships, locked (step 1). */
async function lockMemberships(tx: SQL, inputs: PostInput[]): Promise<Set<string>> {
  const pairs = [...new Map(inputs.map((p) => [`${p.roomId}:${p.senderId}`, p])).values()]
  const roomIds = [...new Set(pairs.map((p) => p.roomId))].sort((a, b) => a - b)
  // `(SELECT count(*) FROM r) >= 0` is an InitPlan of a one-time filter: every room is locked
  // before the first membership row is.
  const rows: Row[] = await tx`
    WITH r AS (SELECT id FROM rooms WHERE id = ANY(${roomIds}::int8[]) ORDER BY id FOR KEY SHARE)
    SELECT p.room_id AS "roomId", p.user_id AS "userId" FROM participants p
    WHERE (p.room_id, p.user_id) IN (SELECT * FROM unnest(${pairs.map((p) => p.roomId)}::int8[], ${pairs.map((p) => p.senderId)}::int8[]))
      AND (SELECT count(*) FROM r) >= 0
    ORDER BY p.room_id, p.user_id
    FOR NO KEY UPDATE OF p`
  return new Set(rows.map((row) => `${row.roomId}:${row.userId}`))
}

/** Step 3: the batch's messages by their index in the batch; a deduplicated one is missing. */
async function insertAll(tx: SQL, accepted: Accepted[]): Promise<Map<number, MessageRecord>> {
  const posts = accepted.map((post, i) => ({
    ord: i + 1,
    room_id: post.input.roomId,
    sender_id: post.input.senderId,
    content: post.input.content,
    client_message_id: post.input.clientMessageId,
    reply_to_id: post.input.replyToId,
    created_at: post.input.now,
    mentions: post.input.mentions.length === 0 ? null : post.input.mentions,
    attachments: post.attachments.length === 0 ? null : post.attachments,
  }))
  const n = posts.length
  const rows: Row[] = await tx`
    WITH x AS (
      SELECT * FROM jsonb_to_recordset(${JSON.stringify(posts)}::text::jsonb) AS x(
        ord int8, room_id int8, sender_id int8, content text, client_message_id text,
        reply_to_id int8, created_at int8, mentions jsonb, attachments jsonb)
      LIMIT ${n}
    ),
    seq AS (${takeIds(tx, n)}),
    m AS (
      INSERT INTO messages (id, room_id, sender_id, content, message_type, created_at, client_message_id, reply_to_id, mentions, attachments)
      SELECT (SELECT base FROM seq) + x.ord, x.room_id, x.sender_id, x.content, 'MESSAGE', x.created_at, x.client_message_id, x.reply_to_id,
        x.mentions, x.attachments
      FROM x ORDER BY x.ord
      ON CONFLICT (sender_id, room_id, client_message_id) WHERE client_message_id IS NOT NULL DO NOTHING
      RETURNING *
    ),
    named AS (
      INSERT INTO mentions (message_id, user_id, room_id)
      SELECT DISTINCT m.id, u.id::int8, m.room_id FROM m, jsonb_array_elements_text(m.mentions) AS u(id)
    ),
    marked AS (
      UPDATE participants p SET last_read_id = last.id
      FROM (SELECT room_id, sender_id, max(id) AS id FROM m GROUP BY room_id, sender_id) last
      WHERE p.room_id = last.room_id AND p.user_id = last.sender_id AND p.last_read_id < last.id
    )
    SELECT ${tx.unsafe(MESSAGE_COLUMNS)}, m.id - (SELECT base FROM seq) AS ord FROM m`
  const indexOfOrd = new Map(accepted.map((post, i) => [i + 1, post.index]))
  return new Map(rows.map((row) => [indexOfOrd.get(Number(row.ord))!, toRecord(row)]))
}
