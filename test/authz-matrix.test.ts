/**
 * The authorization matrix (issue 9): every route of /swagger/json against every actor, in a
 * public and in a private room, as API.md says (Identity, Rooms, Messages): no session -> 401;
 * a private room the caller is not in -> 404 for every route under it, exactly like a room that
 * does not exist; a public room is readable by anyone signed in, only participants write to
 * it (others 403); owner-only routes 403 for everyone else.
 *
 * ADDING A ROUTE? Add one line to ROWS, keyed as /swagger/json spells it (`METHOD /path/{param}`).
 * The test fails while a documented route has no row, and while a row names no route.
 *   cells: anonymous outsider participant owner, in a public room | the same in a private room
 *          (one group of four: the same for both). `201/200`: either status.
 *   body:  the JSON a valid request sends, so the cell tests who may, not what is valid.
 *   params: path values besides the defaults (roomId: the cell's room; messageId: a message of
 *          the cell's participant in it; userId: a user who is no actor; emoji: 👍).
 *   query: query parameters a valid request sends.
 *   form:  a multipart body instead (uploads).
 *   prepare: makes what the request names first (a posted file) and answers its path values.
 *   freshSession: for a route that ends the session it is sent with (each cell signs in anew).
 *   accounts: statuses for who the caller is (admin member bot token deactivated: see
 *          ACCOUNT_ACTORS), each in a fresh public room they are not in. Every /api/admin/* and
 *          /api/auth/* route has them.
 * Each cell runs in a fresh room, so a row may delete or leave it. The room actors are members,
 * not admins: an /api/admin/* route is `401 403 403 403`. Routes still to come in the plan (search,
 * administration, bots, push): give them their row when they reach /swagger/json, e.g.
 * `'GET /api/chat/search': row('401 200 200 200', { query: () => ({ q: 'hello' }) })`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { call, startServer, type TestServer } from './helpers'
import { checkRow, createMatrix, participantOf, row, type Cell, type Matrix, type Row } from './support/authz-matrix'
import { fetchOperations } from './support/openapi-operations'

const upload = () => {
  const form = new FormData()
  form.append('file', new File(['some bytes'], 'notes.txt', { type: 'text/plain' }))
  return form
}

/** A file the cell's participant uploaded and posted in the cell's room. */
async function postedFile(url: string, cell: Cell) {
  const uploader = participantOf(cell)
  const file = await fetch(`${url}/api/chat/rooms/${cell.roomId}/attachments`, { method: 'POST', headers: { authorization: `Bearer ${uploader.token}` }, body: upload() })
  const { id, name } = await file.json()
  const posted = await call(url, `/api/chat/rooms/${cell.roomId}/messages`, { token: uploader.token, body: { content: 'a file', attachmentIds: [id] } })
  if (file.status !== 201 || posted.status !== 201) throw new Error(`posting a file: ${file.status}, ${posted.status}`)
  return { id, name }
}

/** What an admin made for the cell (a bot, an invite), so that deleting it is the request. */
const adminMade = (what: 'bot' | 'invite') => async (url: string, cell: Cell): Promise<Record<string, string | number>> => {
  const made = what === 'bot'
    ? await call(url, '/api/admin/bots', { token: cell.users.admin.token, body: { username: cell.unique('authzb') } })
    : await call(url, '/api/admin/invites', { token: cell.users.admin.token, body: {} })
  if (made.status !== 201) throw new Error(`making a ${what}: ${made.status} ${JSON.stringify(made.body)}`)
  return what === 'bot' ? { userId: made.body.user.id } : { token: made.body.token }
}

/** Signed-in sessions may (the admin included), a bot and an access token 403, a deactivated account 401. */
const SESSIONS_ONLY = '204 204 403 403 401'
const ADMIN_ONLY = (status: number) => `${status} 403 403 403 401`

const ROWS: Record<string, Row> = {
  'GET /healthz':                                                       row('200 200 200 200'),
  'GET /readyz':                                                        row('200 200 200 200'),
  'GET /metrics':                                                       row('200 200 200 200'),
  'POST /api/auth/register':                                            row('201 201 201 201', { body: (c) => ({ username: c.unique('authzreg'), password: 'password-123' }) }),
  'POST /api/auth/login':                                               row('200 200 200 200', { body: (c) => ({ username: c.users.target.username, password: 'password-123' }) }),
  'POST /api/auth/logout':                                              row('401 204 204 204', { freshSession: true, accounts: SESSIONS_ONLY }),
  'GET /api/auth/me':                                                   row('401 200 200 200', { accounts: '200 200 200 200 401' }),
  'PATCH /api/auth/me':                                                 row('401 200 200 200', { accounts: '200 200 200 200 401', body: () => ({ displayName: 'Renamed' }) }),
  // A new password would end the actors' other sessions: an invalid one shows who is let in (400).
  'POST /api/auth/password':                                            row('401 400 400 400', { accounts: '400 400 403 403 401', body: () => ({ currentPassword: 'password-123', newPassword: 'short' }) }),
  // No session needed: an unknown link is 400 to anyone.
  'POST /api/auth/reset':                                               row('400 400 400 400', { accounts: '400 400 400 400 400', body: () => ({ token: 'x'.repeat(43), newPassword: 'password-123' }) }),
  'POST /api/auth/tokens':                                              row('401 201 201 201', { accounts: '201 201 403 403 401', body: () => ({ name: 'matrix' }) }),
  'GET /api/auth/tokens':                                               row('401 200 200 200', { accounts: '200 200 200 200 401' }),
  'DELETE /api/auth/tokens/{id}':                                       row('401 404 404 404', { accounts: '404 404 404 404 401', params: (c) => ({ id: c.users.targetTokenId }) }),
  'GET /api/admin/users':                                               row('401 403 403 403', { accounts: ADMIN_ONLY(200) }),
  'PATCH /api/admin/users/{userId}':                                    row('401 403 403 403', { accounts: ADMIN_ONLY(200), body: () => ({ role: 'member' }) }),
  'POST /api/admin/users/{userId}/password-reset':                      row('401 403 403 403', { accounts: ADMIN_ONLY(201) }),
  'POST /api/admin/invites':                                            row('401 403 403 403', { accounts: ADMIN_ONLY(201), body: () => ({}) }),
  'GET /api/admin/invites':                                             row('401 403 403 403', { accounts: ADMIN_ONLY(200) }),
  'DELETE /api/admin/invites/{token}':                                  row('401 403 403 403', { accounts: ADMIN_ONLY(204), prepare: adminMade('invite') }),
  'GET /api/admin/bots':                                                row('401 403 403 403', { accounts: ADMIN_ONLY(200) }),
  'POST /api/admin/bots':                                               row('401 403 403 403', { accounts: ADMIN_ONLY(201), body: (c) => ({ username: c.unique('authzbot') }) }),
  'DELETE /api/admin/bots/{userId}':                                    row('401 403 403 403', { accounts: ADMIN_ONLY(204), prepare: adminMade('bot') }),
  'GET /api/push/key':                                                  row('401 200 200 200', { accounts: '200 200 200 200 401' }),
  'POST /api/push/subscriptions':                                       row('401 201 201 201', { accounts: '201 201 201 201 401', body: (c) => ({ endpoint: `https://push.example/${c.unique('authzpush')}`, keys: { p256dh: 'B' + 'A'.repeat(86), auth: 'A'.repeat(22) } }) }),
  'DELETE /api/push/subscriptions':                                     row('401 204 204 204', { accounts: '204 204 204 204 401', body: () => ({ endpoint: 'https://push.example/none' }) }),
  'GET /api/chat/users':                                                row('401 200 200 200', { accounts: '200 200 200 200 401' }),
  'GET /api/chat/rooms':                                                row('401 200 200 200', { accounts: '200 200 200 200 401' }),
  'POST /api/chat/rooms':                                               row('401 201 201 201', { accounts: '201 201 201 201 401', body: () => ({ name: 'new room' }) }),
  'GET /api/chat/rooms/public':                                         row('401 200 200 200'),
  'GET /api/chat/rooms/{roomId}':                                       row('401 200 200 200 | 401 404 200 200', { accounts: '200 200 200 200 401' }),
  'DELETE /api/chat/rooms/{roomId}':                                    row('401 403 403 204 | 401 404 403 204'),
  'POST /api/chat/rooms/{roomId}/join':                                 row('401 200 200 200 | 401 404 200 200'),
  'POST /api/chat/rooms/{roomId}/leave':                                row('401 403 204 204 | 401 404 204 204'),
  'POST /api/chat/rooms/{roomId}/participants':                         row('401 403 403 200 | 401 404 403 200', { body: (c) => ({ userId: c.users.target.id }) }),
  'PUT /api/chat/rooms/{roomId}/notifications':                         row('401 403 204 204 | 401 404 204 204', { body: () => ({ level: 'all' }) }),
  'POST /api/chat/users/{userId}/rooms':                                row('401 201/200 201/200 201/200'),
  'GET /api/chat/rooms/{roomId}/messages':                              row('401 200 200 200 | 401 404 200 200'),
  'POST /api/chat/rooms/{roomId}/messages':                             row('401 403 201 201 | 401 404 201 201', { accounts: '403 403 403 403 401', body: () => ({ content: 'hello' }) }),
  'PATCH /api/chat/rooms/{roomId}/messages/{messageId}':                row('401 403 200 403 | 401 404 200 403', { body: () => ({ content: 'edited' }) }),
  // An admin deletes others' messages only in rooms they are in.
  'DELETE /api/chat/rooms/{roomId}/messages/{messageId}':               row('401 403 204 204 | 401 404 204 204', { accounts: '403 403 403 403 401' }),
  'PUT /api/chat/rooms/{roomId}/messages/{messageId}/reactions/{emoji}':    row('401 403 200 200 | 401 404 200 200'),
  'DELETE /api/chat/rooms/{roomId}/messages/{messageId}/reactions/{emoji}': row('401 403 200 200 | 401 404 200 200'),
  'POST /api/chat/rooms/{roomId}/read':                                 row('401 403 204 204 | 401 404 204 204', { body: (c) => ({ messageId: c.messageId }) }),
  'POST /api/chat/rooms/{roomId}/typing':                               row('401 403 204 204 | 401 404 204 204'),
  'GET /api/chat/mentions':                                             row('401 200 200 200'),
  'GET /api/chat/search':                                               row('401 200 200 200 | 401 404 200 200', { query: (c) => ({ q: 'hello', roomId: c.roomIdOverride ?? c.roomId }) }),
  'POST /api/chat/rooms/{roomId}/attachments':                          row('401 403 201 201 | 401 404 201 201', { form: upload }),
  'GET /api/chat/attachments/{id}/{name}':                              row('401 200 200 200 | 401 404 200 200', { prepare: postedFile }),
  'GET /api/chat/rooms/{roomId}/subscribe':                             row('401 200 200 200 | 401 404 200 200'),
  'GET /api/chat/stream':                                               row('401 200 200 200', { accounts: '200 200 200 200 401' }),
}

let server: TestServer
let matrix: Matrix
let documented: string[]

beforeAll(async () => {
  server = await startServer()
  matrix = await createMatrix(server.url)
  documented = (await fetchOperations(server.url)).map((op) => op.key)
})
afterAll(() => server?.stop())

describe('authorization matrix', () => {
  it('has one row for every documented route, and no row without a route', () => {
    expect({ routesWithoutRow: documented.filter((k) => !(k in ROWS)), rowsWithoutRoute: Object.keys(ROWS).filter((k) => !documented.includes(k)) }).toEqual({
      routesWithoutRow: [],
      rowsWithoutRoute: [],
    })
  })

  it('has account cells for every /api/admin/* and /api/auth/* route but register and login', () => {
    const lacking = Object.entries(ROWS).filter(([key, spec]) => /^\S+ \/api\/(admin|auth)\//.test(key) && !/register|login/.test(key) && !spec.accounts)
    expect(lacking.map(([key]) => key)).toEqual([])
  })

  for (const [key, spec] of Object.entries(ROWS)) {
    it(key, async () => {
      const mismatch = await checkRow(server.url, matrix, key, spec)
      if (mismatch) throw new Error(`cells that do not hold:\n${mismatch}`)
    })
  }
})
