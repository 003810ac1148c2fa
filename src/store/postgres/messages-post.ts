import type { SQL } from 'bun'
import type { Outcome } from '../group-commit'
import { NotParticipantError, UnattachableFilesError, type AttachmentRecord, type MessageRecord, type Store } from '../store'
import type { Database } from './database'
import { assertStorable, MESSAGE_COLUMNS, RETURNING_MESSAGE, toRecord, type Row } from './message-rows'
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
 * turn of the event loop, each with its own outcome as the SQLite store's batch gives it.
 * A failed statement would abort the whole batch, so every refusal is decided by reads
 * before anything is written, and the common batch (no files) is ONE autocommit statement,
 * `insertChecked`: one round trip, and the counter is held from its UPDATE to the commit at
 * the statement's end, nothing more.
 *
 * A batch with files (rare) is a transaction:
 * 1. `lockMemberships`: the same locks `insertChecked` takes (below), so a post that is not
 *    a participant is NotParticipantError before its files are looked at, as in SQLite.
 * 2. Per post with files: its first message under the same clientMessageId (a retry of a
 *    post that took these files finds them taken and gets the first), then the files through
 *    the file part, locked (FOR UPDATE).
 * 3. `insertChecked`, then the files' attach (rows already locked) and COMMIT.
 */
export function createPostBatch(db: Database, files: FileWriter, byClientId: ByClientId) {
  return batchesInFlight((inputs: PostInput[]): Promise<Outcome<Posted>[]> =>
    inputs.some((input) => (input.attachmentIds ?? []).length > 0)
      ? db.tx((tx) => postBatch(tx, inputs, { files, byClientId, lock: true }))
      : db.run((sql) => postBatch(sql, inputs, { files, byClientId, lock: false })),
  )
}

/**
 * At most BATCHES_IN_FLIGHT batches of this instance at a time; the batches the group commit
 * flushes meanwhile wait and go together as the next one. SQLite's batches are synchronous,
 * so all that arrives while one commits joins the next by itself; here a batch awaits the
 * database, and posts arriving one by one (HTTP requests) made many small concurrent batches
 * that then queued on the counter and on their senders' membership rows, one commit each
 * (16 posters of one sender with jitter: batches of 1.2 posts, 53 ms each, ~300 posts/s on a
 * loaded machine). Measured on a quiet one, store level: one in flight and two gave the same
 * ~4,000 posts/s for 50 posters in 10 rooms, but for 16 jittered posters of one sender in one
 * room one gave ~4,200 posts/s and two ~2,100 (the second batch waits on the first's lock of
 * the sender's membership row, and is smaller).
 */
const BATCHES_IN_FLIGHT = 1

export function batchesInFlight<I, O>(run: (items: I[]) => Promise<O[]>, most = BATCHES_IN_FLIGHT): (items: I[]) => Promise<O[]> {
  let busy = 0
  let waiting: { items: I[]; settle: (outcomes: Promise<O[]>) => void }[] = []
  const next = () => {
    if (waiting.length === 0) {
      busy--
      return
    }
    const group = waiting
    waiting = []
    const outcomes = run(group.flatMap((batch) => batch.items))
    let from = 0
    for (const batch of group) {
      const start = from
      from += batch.items.length
      batch.settle(outcomes.then((all) => all.slice(start, start + batch.items.length)))
    }
    outcomes.then(next, next)
  }
  return (items) =>
    new Promise<O[]>((resolve) => {
      waiting.push({ items, settle: resolve })
      if (busy < most) {
        busy++
        next()
      }
    })
}

async function postBatch(
  sql: SQL,
  inputs: PostInput[],
  { files, byClientId, lock }: { files: FileWriter; byClientId: ByClientId; lock: boolean },
): Promise<Outcome<Posted>[]> {
  const outcomes: Outcome<Posted>[] = new Array(inputs.length)
  const members = lock ? await lockMemberships(sql, inputs) : null
  const accepted: Accepted[] = []
  const acceptedByKey = new Map<string, Accepted>()
  const duplicates: { index: number; of: Accepted }[] = []
  const claimed = new Set<number>()
  const notParticipant = () => ({ error: new NotParticipantError('the sender is not in the room') })

  for (const [index, input] of inputs.entries()) {
    // The service checked it before; this is the check a leave or a room deletion committed
    // since cannot slip past (insertChecked makes it for a batch without files).
    if (members && !members.has(`${input.roomId}:${input.senderId}`)) {
      outcomes[index] = notParticipant()
      continue
    }
    // Refused alone, rather than failing the batch's insert.
    try {
      assertStorable(input.content, input.clientMessageId)
    } catch (error) {
      outcomes[index] = { error }
      continue
    }
    const key = clientKey(input)
    const earlier = key === null ? undefined : acceptedByKey.get(key)
    if (earlier) {
      // The same post twice in one batch (a retry while the first was queued): the first's outcome.
      duplicates.push({ index, of: earlier })
      continue
    }
    const attachmentIds = input.attachmentIds ?? []
    let attachments: AttachmentRecord[] = []
    if (attachmentIds.length > 0) {
      if (input.clientMessageId !== null) {
        const first = await byClientId(sql, input.senderId, input.roomId, input.clientMessageId)
        if (first) {
          outcomes[index] = { ok: { message: first, created: false } }
          continue
        }
      }
      try {
        // A file an earlier post of this batch takes is taken (the file rows are not yet updated).
        if (attachmentIds.some((id) => claimed.has(id))) throw new UnattachableFilesError('not the sender\'s unattached uploads in this room')
        attachments = await files.claimable(sql, input.roomId, input.senderId, attachmentIds)
      } catch (error) {
        if (!(error instanceof UnattachableFilesError)) throw error
        // The first post under this clientMessageId may have committed while we waited for its files.
        const first = input.clientMessageId === null ? null : await byClientId(sql, input.senderId, input.roomId, input.clientMessageId)
        outcomes[index] = first ? { ok: { message: first, created: false } } : { error }
        continue
      }
      for (const id of attachmentIds) claimed.add(id)
    }
    const post = { index, input, attachmentIds, attachments }
    accepted.push(post)
    if (key !== null) acceptedByKey.set(key, post)
  }

  const inserted = accepted.length === 0 ? new Map<number, MessageRecord | null>() : await insertChecked(sql, accepted)
  for (const post of accepted) {
    const message = inserted.get(post.index)
    if (message === undefined) {
      outcomes[post.index] = notParticipant()
    } else if (message) {
      outcomes[post.index] = { ok: { message, created: true } }
      if (post.attachmentIds.length > 0) await files.attach(sql, message.id, post.attachmentIds)
    } else {
      // Its clientMessageId was taken by a post that committed first (ON CONFLICT waited for it).
      const { senderId, roomId, clientMessageId } = post.input
      const first = await byClientId(sql, senderId, roomId, clientMessageId!)
      outcomes[post.index] = first
        ? { ok: { message: first, created: false } }
        : { error: new Error('the first message under this clientMessageId was deleted meanwhile') }
    }
  }
  for (const { index, of } of duplicates) {
    const first = outcomes[of.index]!
    outcomes[index] = 'ok' in first ? { ok: { message: first.ok.message, created: false } } : first
  }
  return outcomes
}

/**
 * The rooms (FOR KEY SHARE), then the senders' memberships (FOR NO KEY UPDATE: the sender's
 * read marker is updated, and a leave or a room deletion, which delete these rows, waits for
 * this transaction; one that committed first took the row away and the post is
 * NotParticipantError). Rooms before memberships, rows in key order: the order a room
 * deletion locks them in, so the two never deadlock. `(SELECT count(*) FROM r) >= 0` is an
 * InitPlan of a one-time filter: every room is locked before the first membership row is.
 */
const MEMBERS = `
  r AS (SELECT id FROM rooms WHERE id IN (SELECT room_id FROM x) ORDER BY id FOR KEY SHARE),
  members AS (
    SELECT p.room_id, p.user_id FROM participants p
    WHERE (p.room_id, p.user_id) IN (SELECT room_id, sender_id FROM x) AND (SELECT count(*) FROM r) >= 0
    ORDER BY p.room_id, p.user_id
    FOR NO KEY UPDATE OF p
  )`

const X_COLUMNS = `ord int8, room_id int8, sender_id int8, content text, client_message_id text,
  reply_to_id int8, created_at int8, mentions jsonb, attachments jsonb`

/** Step 1 of a batch with files: the (room, sender) pairs that are memberships, locked. */
async function lockMemberships(tx: SQL, inputs: PostInput[]): Promise<Set<string>> {
  const pairs = [...new Map(inputs.map((p) => [`${p.roomId}:${p.senderId}`, { room_id: p.roomId, sender_id: p.senderId }])).values()]
  const rows: Row[] = await tx`
    WITH x AS (SELECT * FROM jsonb_to_recordset(${JSON.stringify(pairs)}::text::jsonb) AS x(room_id int8, sender_id int8) LIMIT ${pairs.length}),
    ${tx.unsafe(MEMBERS)}
    SELECT room_id AS "roomId", user_id AS "userId" FROM members`
  return new Set(rows.map((row) => `${row.roomId}:${row.userId}`))
}

/**
 * The batch's messages, in one statement: its posts (one JSON parameter) whose sender is a
 * participant (MEMBERS, locked), numbered in batch order from the counter, inserted with
 * their mentions, each sender's read marker moved to their last one. ON CONFLICT DO NOTHING:
 * a clientMessageId already used leaves its number unused.
 *
 * The counter's UPDATE joins `count(*)` of the checked posts, which reads every membership
 * row (and so takes every lock above) before the counter row is locked: once it holds the
 * counter, the statement waits for nothing (messages-sequence.ts). The foreign keys' checks
 * find the rooms locked already; the senders' user rows are only ever updated FOR NO KEY
 * UPDATE, which a KEY SHARE does not wait for.
 *
 * The counter's row is named by its key and `seq` read as a scalar: the planner's estimates
 * stay near the real row counts (a cross join of guesses once cost ~1,000,000 and made
 * PostgreSQL JIT-compile the statement: 3.8 s per batch).
 *
 * Returns, by index in the batch: the message; null when its clientMessageId was used before;
 * missing when the sender is not a participant.
 */
async function insertChecked(sql: SQL, accepted: Accepted[]): Promise<Map<number, MessageRecord | null>> {
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
  const rows: Row[] = await sql`
    WITH x AS (SELECT * FROM jsonb_to_recordset(${JSON.stringify(posts)}::text::jsonb) AS x(${sql.unsafe(X_COLUMNS)}) LIMIT ${posts.length}),
    ${sql.unsafe(MEMBERS)},
    checked AS MATERIALIZED (
      SELECT x.*, row_number() OVER (ORDER BY x.ord) AS n FROM x
      WHERE (x.room_id, x.sender_id) IN (SELECT room_id, user_id FROM members)
    ),
    seq AS (
      UPDATE event_sequence SET last_id = last_id + c.n FROM (SELECT count(*) AS n FROM checked) c
      WHERE event_sequence.id = 1 AND c.n > 0 RETURNING last_id - c.n AS base
    ),
    m AS (
      INSERT INTO messages (id, room_id, sender_id, content, message_type, created_at, client_message_id, reply_to_id, mentions, attachments)
      SELECT (SELECT base FROM seq) + c.n, c.room_id, c.sender_id, c.content, 'MESSAGE', c.created_at, c.client_message_id, c.reply_to_id,
        c.mentions, c.attachments
      FROM checked c WHERE EXISTS (SELECT 1 FROM seq) ORDER BY c.n
      ON CONFLICT (sender_id, room_id, client_message_id) WHERE client_message_id IS NOT NULL DO NOTHING
      ${sql.unsafe(RETURNING_MESSAGE)}
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
    SELECT c.ord AS "batchOrd", ${sql.unsafe(MESSAGE_COLUMNS)}
    FROM checked c LEFT JOIN m ON m.id = (SELECT base FROM seq) + c.n`
  const indexOfOrd = new Map(accepted.map((post, i) => [i + 1, post.index]))
  return new Map(rows.map((row) => [indexOfOrd.get(Number(row.batchOrd))!, row.id === null ? null : toRecord(row)]))
}
