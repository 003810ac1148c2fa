/**
 * The machinery of test/authz-matrix.test.ts: actors, a fresh room per cell, the cell notation,
 * and sending one request per cell. Rows live in the test file; this file reads and runs them.
 */
import { call, createRoom, newUser, post, type TestUser } from '../helpers'
import { fillPath, pathParams } from './openapi-operations'

/** The columns of a row, in order. */
export const ACTORS = ['anonymous', 'outsider', 'participant', 'owner'] as const
/**
 * The columns of a row's `accounts`: who the caller is rather than where. Each is in no room of
 * the matrix. admin: the server's first account; member: a plain account; bot: a bot's token;
 * token: a member's access token; deactivated: the session of an account deactivated since.
 */
export const ACCOUNT_ACTORS = ['admin', 'member', 'bot', 'token', 'deactivated'] as const
export type Actor = (typeof ACTORS)[number] | (typeof ACCOUNT_ACTORS)[number]
export type RoomKind = 'public' | 'private'

export interface Users {
  /** Owns every cell's room. */
  owner: TestUser
  /** In the public rooms only (joined), and in the private rooms only (added by the owner). */
  publicParticipant: TestUser
  privateParticipant: TestUser
  /** Signed in, in no room of the matrix. */
  outsider: TestUser
  /** Someone to add to a room or talk to, never an actor. */
  target: TestUser
  /** An access token of target's (another user's token, to every actor). */
  targetTokenId: number
  admin: TestUser
  member: TestUser
  bot: TestUser
  /** The member's access token. */
  memberToken: string
  deactivated: TestUser
}

/** What a row's request may name: the cell's fresh room and its two messages, the users. */
export interface Cell {
  actor: Actor
  kind: RoomKind
  roomId: number
  /** Posted by the cell's participant (so "sender" and "owner" differ). */
  messageId: number
  /** Posted by the owner. */
  ownerMessageId: number
  users: Users
  /** A name no one has used yet, for accounts a row creates. */
  unique(prefix: string): string
  /** Sends the request to this room instead (a room that does not exist), whatever the row says. */
  roomIdOverride?: number
}

export interface Row {
  /**
   * Statuses for anonymous, outsider, participant and owner in a public room, then `|` and the
   * same in a private room: `401 200 200 200 | 401 404 200 200`. One group of four stands for
   * both. `201/200`: either status.
   */
  cells: string
  /** The JSON body (default: none). */
  body?: (cell: Cell) => unknown
  /** Query parameters a valid request sends. */
  query?: (cell: Cell) => Record<string, string | number>
  /** A multipart body instead (uploads). */
  form?: (cell: Cell) => FormData
  /** Makes what the request names before it is sent (say, a posted file) and answers its path values. */
  prepare?: (url: string, cell: Cell) => Promise<Record<string, string | number>>
  /** Path values; `roomId`, `messageId` and `userId` (the target) default from the cell, `emoji` to 👍. */
  params?: (cell: Cell) => Record<string, string | number>
  /** Sign the actor in afresh for the request: the route ends the session it is sent with. */
  freshSession?: boolean
  /**
   * Statuses for the account actors (admin member bot token deactivated, see ACCOUNT_ACTORS),
   * each sent in a fresh public room they are not in: `200 200 200 200 401`.
   */
  accounts?: string
}

export const row = (cells: string, options: Omit<Row, 'cells'> = {}): Row => ({ cells, ...options })

const KINDS: RoomKind[] = ['public', 'private']

/** The expected statuses of a row by room kind and actor (each a set of allowed statuses). */
export function parseCells(cells: string): Record<RoomKind, number[][]> {
  const groups = cells.split('|').map((g) => g.trim().split(/\s+/).map((c) => c.split('/').map(Number)))
  if (groups.length > 2 || groups.some((g) => g.length !== ACTORS.length || g.flat().some((s) => !Number.isInteger(s)))) {
    throw new Error(`bad cells "${cells}": one or two groups of ${ACTORS.length} statuses (${ACTORS.join(', ')}), split by |`)
  }
  return { public: groups[0]!, private: groups[1] ?? groups[0]! }
}

const PASSWORD = 'password-123'
let seq = 0

export interface Matrix {
  users: Users
  /** A room that existed and was deleted: what a private room must look like to an outsider. */
  goneRoomId: number
}

async function expectStatus<T = any>(what: string, status: number, reply: Promise<{ status: number; body: T }>): Promise<T> {
  const res = await reply
  if (res.status !== status) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body
}

export async function createMatrix(url: string): Promise<Matrix> {
  // The first account is the admin: an account actor of its own, in no room of the matrix.
  const admin = await newUser(url, 'authzroot')
  const target = await newUser(url, 'authztarget')
  const member = await newUser(url, 'authzmember')
  const deactivated = await newUser(url, 'authzgone')
  const bot = await expectStatus('bot', 201, call(url, '/api/admin/bots', { token: admin.token, body: { username: `authzbot_${Date.now().toString(36)}` } }))
  const users: Users = {
    owner: await newUser(url, 'authzowner'),
    publicParticipant: await newUser(url, 'authzpub'),
    privateParticipant: await newUser(url, 'authzpriv'),
    outsider: await newUser(url, 'authzout'),
    target,
    targetTokenId: (await expectStatus('token', 201, call(url, '/api/auth/tokens', { token: target.token, body: { name: 'target' } }))).id,
    admin,
    member,
    bot: { id: bot.user.id, username: bot.user.username, token: bot.token },
    memberToken: (await expectStatus('token', 201, call(url, '/api/auth/tokens', { token: member.token, body: { name: 'matrix' } }))).token,
    deactivated,
  }
  await expectStatus('deactivate', 200, call(url, `/api/admin/users/${deactivated.id}`, { method: 'PATCH', token: admin.token, body: { deactivated: true } }))
  const gone = await freshRoom(url, users, 'private')
  const deleted = await call(url, `/api/chat/rooms/${gone.roomId}`, { method: 'DELETE', token: users.owner.token })
  if (deleted.status !== 204) throw new Error(`delete: ${deleted.status}`)
  return { users, goneRoomId: gone.roomId }
}

async function freshRoom(url: string, users: Users, kind: RoomKind) {
  const participant = kind === 'public' ? users.publicParticipant : users.privateParticipant
  const room = await createRoom(url, users.owner, { name: `authz ${kind}`, visibility: kind, participantIds: kind === 'private' ? [participant.id] : [] })
  if (kind === 'public') {
    const joined = await call(url, `/api/chat/rooms/${room.id}/join`, { method: 'POST', token: participant.token })
    if (joined.status !== 200) throw new Error(`join: ${joined.status} ${JSON.stringify(joined.body)}`)
  }
  const ownerMessage = await post(url, users.owner, room.id, 'from the owner')
  const message = await post(url, participant, room.id, 'from the participant')
  return { roomId: room.id, messageId: message.id, ownerMessageId: ownerMessage.id }
}

/** The cell's participant (of its public or of its private room). */
export const participantOf = (cell: Cell) => (cell.kind === 'public' ? cell.users.publicParticipant : cell.users.privateParticipant)

async function tokenOf(url: string, cell: Cell, fresh: boolean): Promise<string | undefined> {
  const { users } = cell
  if (cell.actor === 'bot' || cell.actor === 'deactivated') return users[cell.actor].token
  if (cell.actor === 'token') return users.memberToken
  const user = { anonymous: undefined, outsider: users.outsider, owner: users.owner, participant: participantOf(cell), admin: users.admin, member: users.member }[cell.actor]
  if (!user || !fresh) return user?.token
  const res = await call(url, '/api/auth/login', { body: { username: user.username, password: PASSWORD } })
  if (res.status !== 200) throw new Error(`login ${user.username}: ${res.status}`)
  return res.body.token
}

/** Sends one cell's request and answers its status and body (a stream is dropped at its headers). */
async function runCell(url: string, method: string, template: string, spec: Row, cell: Cell): Promise<{ status: number; body: string }> {
  const defaults: Record<string, string | number> = { roomId: cell.roomId, messageId: cell.messageId, userId: cell.users.target.id, emoji: '👍' }
  const prepared = (await spec.prepare?.(url, cell)) ?? {}
  const values: Record<string, string | number> = { ...defaults, ...prepared, ...spec.params?.(cell), ...(cell.roomIdOverride ? { roomId: cell.roomIdOverride } : {}) }
  const query = spec.query ? `?${new URLSearchParams(Object.entries(spec.query(cell)).map(([k, v]) => [k, String(v)]))}` : ''
  const path = fillPath(template, Object.fromEntries(pathParams(template).map((name) => [name, encodeURIComponent(String(values[name]))]))) + query
  const token = await tokenOf(url, cell, spec.freshSession ?? false)
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {}
  const json = spec.body?.(cell)
  if (json !== undefined) headers['content-type'] = 'application/json'
  const body = spec.form?.(cell) ?? (json === undefined ? undefined : JSON.stringify(json))
  const abort = new AbortController()
  const res = await fetch(url + path, { method, headers, body, signal: abort.signal })
  if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
    abort.abort()
    return { status: res.status, body: '' }
  }
  return { status: res.status, body: await res.text() }
}

/**
 * Runs every cell of a row, each in a fresh room, and answers what does not hold: statuses as
 * two aligned lines (expected, then actual), and any 404 of a private room whose body differs
 * from the same request's on a room that does not exist (which would tell the room is there).
 * Null when every cell holds.
 */
export async function checkRow(url: string, matrix: Matrix, key: string, spec: Row): Promise<string | null> {
  const [method, template] = key.split(' ') as [string, string]
  const accounts = spec.accounts === undefined ? null : await checkAccounts(url, matrix, method, template, spec)
  const expected = parseCells(spec.cells)
  const actual: Record<RoomKind, number[]> = { public: [], private: [] }
  const tells: string[] = []
  await Promise.all(
    KINDS.flatMap((kind) =>
      ACTORS.map(async (actor, i) => {
        const room = await freshRoom(url, matrix.users, kind)
        const cell: Cell = { actor, kind, ...room, users: matrix.users, unique: (prefix) => `${prefix}_${Date.now().toString(36)}_${++seq}` }
        const reply = await runCell(url, method, template, spec, cell)
        actual[kind][i] = reply.status
        if (kind === 'private' && reply.status === 404 && template.includes('{roomId}')) {
          const none = await runCell(url, method, template, spec, { ...cell, roomIdOverride: matrix.goneRoomId })
          if (none.body !== reply.body) tells.push(`  ${actor}: 404 ${reply.body} where a room that does not exist answers ${none.status} ${none.body}`)
        }
      }),
    ),
  )
  const holds = KINDS.every((kind) => actual[kind].every((status, i) => expected[kind][i]!.includes(status)))
  if (holds && tells.length === 0) return accounts
  const line = (f: (i: number) => string) => ACTORS.map((_, i) => f(i).padEnd(11)).join(' ')
  const want = KINDS.map((k) => line((i) => expected[k][i]!.join('/'))).join(' | ')
  const got = KINDS.map((k) => line((i) => String(actual[k][i]))).join(' | ')
  const header = KINDS.map(() => ACTORS.map((a) => a.padEnd(11)).join(' ')).join(' | ')
  return [`${key}`, `           ${header}`, `  expected ${want}`, `  actual   ${got}`, ...tells, ...(accounts ? [accounts] : [])].join('\n')
}

/** The row's `accounts` cells, each in a fresh public room; null when every one holds. */
async function checkAccounts(url: string, matrix: Matrix, method: string, template: string, spec: Row): Promise<string | null> {
  const expected = spec.accounts!.trim().split(/\s+/).map((c) => c.split('/').map(Number))
  if (expected.length !== ACCOUNT_ACTORS.length || expected.flat().some((s) => !Number.isInteger(s))) {
    throw new Error(`bad accounts "${spec.accounts}": ${ACCOUNT_ACTORS.length} statuses (${ACCOUNT_ACTORS.join(', ')})`)
  }
  const actual = await Promise.all(
    ACCOUNT_ACTORS.map(async (actor) => {
      const room = await freshRoom(url, matrix.users, 'public')
      const cell: Cell = { actor, kind: 'public', ...room, users: matrix.users, unique: (prefix) => `${prefix}_${Date.now().toString(36)}_${++seq}` }
      return (await runCell(url, method, template, spec, cell)).status
    }),
  )
  if (actual.every((status, i) => expected[i]!.includes(status))) return null
  const line = (f: (i: number) => string) => ACCOUNT_ACTORS.map((_, i) => f(i).padEnd(11)).join(' ')
  return [`  accounts ${line((i) => ACCOUNT_ACTORS[i]!)}`, `  expected ${line((i) => expected[i]!.join('/'))}`, `  actual   ${line((i) => String(actual[i]))}`].join('\n')
}
