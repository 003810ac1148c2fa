/** Our server as a target: the compiled binary, users by registration, public rooms. */
import { join } from 'node:path'
import { buildIfStale } from '../build'
import { requestJson } from '../http'
import { openDatabase, createSqliteStore } from '../../src/store/sqlite'
import { SEED_CACHE_KIB, seededContent, seededRoom, seededTime, storeHistory, type Identity, type Target } from './target'

const ROOT = join(import.meta.dir, '..', '..')
const BINARY = join(ROOT, 'dist', 'chat-server')
// Registration hashes with argon2id (tens of ms): users are few and shared by many streams.
const PASSWORD = 'bench-password'
const RUN = `${process.pid.toString(36)}${Date.now().toString(36)}`
let nextUser = 0
let built: true | undefined
/** `--binary`: a compiled server measured as it is, never rebuilt (a release, another commit's build). */
let given: string | undefined

export function useBinary(path: string): void {
  given = path
}

async function register(base: string): Promise<Identity> {
  const username = `b${RUN}_${nextUser++}`
  const { user, token } = await requestJson<{ user: { id: number }; token: string }>(
    'POST', `${base}/api/auth/register`, { username, password: PASSWORD },
  )
  return { userId: user.id, headers: { Authorization: `Bearer ${token}` } }
}

export const ours: Target = {
  name: 'ours',
  store: 'sqlite',
  runs: () => true,
  env: { RATE_LIMIT_MESSAGES_PER_MINUTE: '0', RATE_LIMIT_AUTH_PER_MINUTE: '0', MAX_STREAMS_PER_USER: '0', LOG_LEVEL: 'warn' },

  async executable() {
    if (given !== undefined) {
      if (!(await Bun.file(given).exists())) throw new Error(`--binary ${given}: no such file`)
      return given
    }
    // Once per bench run: src/ may change under a long run, and every scenario should measure one build.
    built ??= buildIfStale(BINARY, ['src', 'package.json', 'bun.lock'].map(path => join(ROOT, path)), ['bun', 'run', 'build'], ROOT)
    return BINARY
  },

  async seedHistory(path, shape) {
    // The server's own migrations make the schema, so the seed cannot drift from it.
    const db = openDatabase(path)
    // Rooms interleave, so every insert lands in a different index page: keep them all cached.
    db.run(`PRAGMA cache_size = ${SEED_CACHE_KIB}`)
    const now = Date.now()
    const user = db.query('INSERT INTO users (id, username, display_name, password_hash, created_at) VALUES (1, ?, ?, ?, ?)')
    const room = db.query(`INSERT INTO rooms (id, name, type, visibility, owner_id, created_at) VALUES (?, ?, 'group', 'public', 1, ?)`)
    const member = db.query('INSERT INTO participants (room_id, user_id, joined_at) VALUES (?, 1, ?)')
    const message = db.query(`INSERT INTO messages (id, room_id, sender_id, content, message_type, created_at) VALUES (?, ?, 1, ?, 'MESSAGE', ?)`)
    // Every tenth message answers the one before it in its room and carries a reaction, as the
    // table and the row's JSON copy hold it: pages then read replies and reactions too.
    const reply = db.query(`INSERT INTO messages (id, room_id, sender_id, content, message_type, created_at, reply_to_id, reactions) VALUES (?, ?, 1, ?, 'MESSAGE', ?, ?, '[{"emoji":"👍","userIds":[1]}]')`)
    const reaction = db.query(`INSERT INTO reactions (message_id, emoji, user_id) VALUES (?, '👍', 1)`)
    db.transaction(() => {
      // Nobody logs in as the seeding owner: the hash only has to be present.
      user.run(`seed${RUN}`, 'seed', 'not-a-hash', now)
      for (let id = 1; id <= shape.rooms; id++) {
        room.run(id, `room ${id}`, now)
        member.run(id, now)
      }
      // Seeded messages are left to the search index's backlog (its triggers skip them) and
      // indexed in one pass below, as an upgraded database's are: ~4 s of CPU for 1,000,000,
      // against ~20 s one trigger at a time.
      db.run(`UPDATE search_backlog SET below_id = ${shape.messages + 1}`)
      for (let k = 1; k <= shape.messages; k++) {
        const args = [k, seededRoom(k, shape), seededContent(k), seededTime(k, shape, now)] as const
        if (k % 10 !== 0 || k <= shape.rooms) {
          message.run(...args)
          continue
        }
        reply.run(...args, k - shape.rooms)
        reaction.run(k)
      }
      db.run(`INSERT INTO message_search (rowid, content, room) SELECT id, content, room_id FROM messages WHERE message_type = 'MESSAGE'`)
      db.run('UPDATE search_backlog SET below_id = 1')
    })()
    db.close()
  },

  async users(base, count) {
    const users: Identity[] = []
    for (let i = 0; i < count; i++) users.push(await register(base))
    return users
  },

  async createRoom(base, owner, members) {
    const room = await requestJson<{ id: number }>('POST', `${base}/api/chat/rooms`, {
      name: 'bench', visibility: 'public', participantIds: members.map(member => member.userId),
    }, owner.headers)
    return room.id
  },

  async historyReader(base, shape) {
    const reader = await register(base)
    for (let room = 1; room <= shape.readerRooms; room++) {
      await requestJson('POST', `${base}/api/chat/rooms/${room}/join`, undefined, reader.headers)
    }
    return { ...reader, roomsPath: '/api/chat/rooms' }
  },

  async openHistory(path) {
    const store = createSqliteStore(path)
    return storeHistory(store)
  },
}
