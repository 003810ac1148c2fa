/**
 * The data a fuzz run works on, over HTTP only (so it runs against the binary or any URL): the
 * caller's own rooms to aim valid requests at, and witness rooms of another user, written before
 * the run and compared after it. The caller is never an admin, so nothing it may do reaches the
 * witness rooms beyond joining the public one and posting and reacting there.
 */
import fc from 'fast-check'
import { call, createRoom, newUser, post, type TestUser } from '../helpers'
import { runRequests, type FuzzRun } from './fuzz-send'
import { requestArbitrary, SESSION_ENDING, type FuzzContext, type FuzzRequest } from './openapi-fuzz'
import type { Operation } from './openapi-operations'

export interface FuzzWorld {
  ctx: FuzzContext
  caller: TestUser
  keeper: TestUser
  /** The keeper's private room (the caller is not in it) and public room. */
  vault: number
  lobby: number
  /** A word only the vault holds: a reply to the caller that contains it is a leak. */
  secret: string
}

const WITNESS_TEXTS = ['plain text', 'émoji 👍🏽 and RTL \u202Eabc', 'line\nbreaks\r\nand\ttabs', '@someone <b>not html</b>', '0'.repeat(4000)]

export async function seedWorld(url: string): Promise<FuzzWorld> {
  // On a new server the first account is the admin: made here and never used, so the caller is a member.
  await newUser(url, 'fuzzroot')
  const keeper = await newUser(url, 'fuzzkeeper')
  const caller = await newUser(url, 'fuzzcaller')
  const other = await newUser(url, 'fuzzother')
  const secret = `vaultword${Math.random().toString(36).slice(2, 8)}`

  const vault = (await createRoom(url, keeper, { name: 'vault', participantIds: [other.id] })).id
  const lobby = (await createRoom(url, keeper, { name: 'lobby', visibility: 'public' })).id
  const vaultIds: number[] = []
  for (const text of [...WITNESS_TEXTS, `${secret} kept here`]) vaultIds.push((await post(url, keeper, vault, text, `w-${vaultIds.length}`)).id)
  const lobbyIds: number[] = []
  for (const text of WITNESS_TEXTS) lobbyIds.push((await post(url, keeper, lobby, text)).id)

  const targets: Record<string, string | number>[] = [
    { roomId: lobby, messageId: lobbyIds[0]!, userId: keeper.id },
    { roomId: vault, messageId: vaultIds[0]!, userId: keeper.id, q: secret },
    { roomId: 999_999, messageId: 999_999, userId: 999_999 },
  ]
  const crossRoom = (roomId: number) => [
    // A room of the caller's with another room's message: the message must stay out of reach.
    { roomId, messageId: vaultIds[1]!, replyToId: vaultIds[1]!, userId: keeper.id },
    { roomId, messageId: lobbyIds[1]!, replyToId: lobbyIds[1]!, userId: keeper.id },
  ]
  const disposableTargets = [...targets]
  // Rooms of the caller: some for every operation, and others for the ones that delete or
  // leave, so that the first valid delete does not leave the rest of the run nothing to aim at.
  for (let i = 0; i < 8; i++) {
    const room = await createRoom(url, caller, { name: `play ${i}`, visibility: i % 4 === 0 ? 'public' : 'private', participantIds: i % 2 ? [other.id] : [] })
    const message = await post(url, caller, room.id, `hello @${other.username} from play ${i}`)
    // The caller's own credentials too, so that valid sign-ins sign in.
    ;(i < 4 ? targets : disposableTargets).push({ roomId: room.id, messageId: message.id, userId: i % 4 === 3 ? caller.id : other.id, username: caller.username, password: 'password-123' })
    if (i % 4 === 1) (i < 4 ? targets : disposableTargets).push(...crossRoom(room.id))
    // More history than the largest page, so a limit that is not applied shows as a long list.
    if (i === 0) for (let n = 0; n < 210; n++) await post(url, caller, room.id, `history ${n}`)
  }

  const spareTokens: string[] = []
  for (let i = 0; i < 3; i++) {
    const res = await call(url, '/api/auth/login', { body: { username: caller.username, password: 'password-123' } })
    if (res.status !== 200) throw new Error(`login: ${res.status} ${JSON.stringify(res.body)}`)
    spareTokens.push(res.body.token)
  }
  return { ctx: { token: caller.token, spareTokens, targets, disposableTargets, sessionEnding: SESSION_ENDING }, caller, keeper, vault, lobby, secret }
}

interface RoomView {
  room: Record<string, unknown>
  participantIds: number[]
  messages: Record<string, unknown>[]
}
export type WitnessSnapshot = { vault: RoomView; lobby: RoomView }

async function viewRoom(url: string, token: string, roomId: number): Promise<RoomView> {
  const room = await call(url, `/api/chat/rooms/${roomId}`, { token })
  if (room.status !== 200) throw new Error(`witness room ${roomId}: ${room.status} ${JSON.stringify(room.body)}`)
  const history = await call(url, `/api/chat/rooms/${roomId}/messages?limit=200`, { token })
  if (history.status !== 200) throw new Error(`witness history ${roomId}: ${history.status} ${JSON.stringify(history.body)}`)
  const { id, name, type, visibility, ownerId } = room.body
  return {
    room: { id, name, type, visibility, ownerId },
    participantIds: room.body.participants.map((p: { id: number }) => p.id).sort((a: number, b: number) => a - b),
    messages: history.body,
  }
}

/** What no one but a message's sender changes (reactions are anyone's in the room). */
const authored = ({ id, senderId, content, messageType, clientMessageId, createdAt, editedAt, replyToId }: Record<string, unknown>) => ({
  id, senderId, content, messageType, clientMessageId, createdAt, editedAt, replyToId,
})

export async function snapshotWitness(url: string, world: FuzzWorld): Promise<WitnessSnapshot> {
  return { vault: await viewRoom(url, world.keeper.token, world.vault), lobby: await viewRoom(url, world.keeper.token, world.lobby) }
}

/**
 * What changed in the witness rooms that the caller could not have done: the vault exactly as
 * it was, messages whole (reactions too); the lobby with every earlier message as its sender
 * wrote it, its owner's participation kept, and only the caller's own messages (its JOIN, its
 * posts) added.
 */
export function witnessChanges(before: WitnessSnapshot, after: WitnessSnapshot, callerId: number): string[] {
  const changes: string[] = []
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b)
  if (!same(before.vault, after.vault)) changes.push(`vault changed:\n  before ${JSON.stringify(before.vault)}\n  after  ${JSON.stringify(after.vault)}`)
  if (!same(before.lobby.room, after.lobby.room)) changes.push(`lobby room changed: ${JSON.stringify(before.lobby.room)} -> ${JSON.stringify(after.lobby.room)}`)
  for (const id of before.lobby.participantIds) if (!after.lobby.participantIds.includes(id)) changes.push(`lobby lost participant ${id}`)
  for (const id of after.lobby.participantIds) if (!before.lobby.participantIds.includes(id) && id !== callerId) changes.push(`lobby gained participant ${id}`)
  const afterById = new Map(after.lobby.messages.map((m) => [m.id, m]))
  for (const m of before.lobby.messages) {
    const now = afterById.get(m.id)
    if (!now || !same(authored(m), authored(now))) changes.push(`lobby message ${m.id}: ${JSON.stringify(authored(m))} -> ${now ? JSON.stringify(authored(now)) : 'gone'}`)
  }
  const beforeIds = new Set(before.lobby.messages.map((m) => m.id))
  for (const m of after.lobby.messages) if (!beforeIds.has(m.id) && m.senderId !== callerId) changes.push(`lobby message added by ${m.senderId}: ${JSON.stringify(m)}`)
  return changes
}

/** A stable number per operation, so adding a route does not change the others' requests. */
function keySeed(key: string): number {
  let h = 2166136261
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 16777619)
  return h >>> 0
}

/**
 * `count(op)` requests per operation from `seed`, interleaved across operations (so a valid
 * delete lands among other operations' requests, not before all of them).
 */
export function planRequests(operations: Operation[], ctx: FuzzContext, seed: number, count: (op: Operation) => number): FuzzRequest[] {
  const lists = operations.map((op) => fc.sample(requestArbitrary(op, ctx), { seed: (seed ^ keySeed(op.key)) | 0, numRuns: count(op) }))
  const plan: FuzzRequest[] = []
  for (let i = 0; lists.some((l) => i < l.length); i++) for (const l of lists) if (i < l.length) plan.push(l[i]!)
  return plan
}

/** Operations whose valid requests cost a password hash (argon2) get a share of the count. */
export const hashesPasswords = (op: Operation) => Object.keys(op.body?.schema.properties ?? {}).some((k) => /password/i.test(k))

export interface FuzzRound {
  world: FuzzWorld
  run: FuzzRun
  seconds: number
  /** Changes to the witness rooms that no request of the caller could have made. */
  witness: string[]
}

/**
 * One fuzz round: a fresh world, about `total` requests from `seed` over every operation, then
 * the witness rooms compared. Every reply is also searched for the private room's secret word.
 */
export async function fuzzRound(url: string, operations: Operation[], seed: number, total: number, concurrency?: number): Promise<FuzzRound> {
  const world = await seedWorld(url)
  const before = await snapshotWitness(url, world)
  const share = Math.ceil(total / operations.length)
  const plan = planRequests(operations, world.ctx, seed, (op) => (hashesPasswords(op) ? Math.ceil(share / 4) : share))
  const started = performance.now()
  const run = await runRequests(url, plan, {
    concurrency,
    operations,
    checks: [(req, reply) => (reply.text.includes(world.secret) ? `${reply.status} whose body holds the private room's text: a leak` : null)],
  })
  const seconds = (performance.now() - started) / 1000
  const witness = witnessChanges(before, await snapshotWitness(url, world), world.caller.id)
  return { world, run, seconds, witness }
}
