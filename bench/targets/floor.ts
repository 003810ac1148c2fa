/** The floor (bench/floor.ts) as a target: compiled for the fastest start, no users, rooms exist by being used. */
import { Database } from 'bun:sqlite'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { buildIfStale } from '../build'
import { FLOOR_PRAGMAS, FLOOR_QUERIES, FLOOR_SCHEMA } from '../floor-schema'
import { SEED_CACHE_KIB, seededContent, seededRoom, seededTime, type Target } from './target'

const BENCH = join(import.meta.dir, '..')
const BINARY = join(tmpdir(), 'chat-bench-floor-server')
let nextRoom = 1
let built: true | undefined

export const floor: Target = {
  name: 'floor',
  store: 'sqlite',
  runs: scenario => scenario !== 'changes' && scenario !== 'upload' && scenario !== 'search',
  env: {},

  async executable() {
    const sources = [join(BENCH, 'floor.ts'), join(BENCH, 'floor-schema.ts')]
    built ??= buildIfStale(BINARY, sources, ['bun', 'build', sources[0]!, '--compile', '--minify', '--bytecode', '--outfile', BINARY], BENCH)
    return BINARY
  },

  async seedHistory(path, shape) {
    const db = new Database(path, { create: true })
    db.exec(FLOOR_PRAGMAS)
    db.exec(FLOOR_SCHEMA)
    db.run(`PRAGMA cache_size = ${SEED_CACHE_KIB}`)
    const now = Date.now()
    const message = db.query('INSERT INTO messages (id, room_id, sender_id, content, created_at) VALUES (?, ?, 0, ?, ?)')
    const member = db.query('INSERT INTO participants (user_id, room_id) VALUES (1, ?)')
    db.transaction(() => {
      for (let k = 1; k <= shape.messages; k++) message.run(k, seededRoom(k, shape), seededContent(k), seededTime(k, shape, now))
      for (let room = 1; room <= shape.readerRooms; room++) member.run(room)
    })()
    db.close()
  },

  async users(_base, count) {
    return Array.from({ length: count }, (_, i) => ({ userId: i + 1, headers: {} }))
  },

  async createRoom() {
    return nextRoom++
  },

  async historyReader() {
    return { userId: 1, headers: {}, roomsPath: '/api/chat/rooms?userId=1' }
  },

  async openHistory(path) {
    const db = new Database(path, { readonly: true })
    const [newest, before, after, rooms] = [FLOOR_QUERIES.newest, FLOOR_QUERIES.before, FLOOR_QUERIES.after, FLOOR_QUERIES.rooms].map(sql => db.query(sql))
    return {
      newest: async (roomId, limit) => newest!.all(roomId, limit).reverse(),
      before: async (roomId, id, limit) => before!.all(roomId, id, limit).reverse(),
      after: async (roomId, id, limit) => after!.all(roomId, id, limit),
      rooms: async userId => rooms!.all(userId),
      close: () => db.close(),
    }
  },
}
