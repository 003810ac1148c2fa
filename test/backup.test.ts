// store: sqlite only (backs up and restores the SQLite file)
/**
 * `chat-server backup FILE` against a server that keeps working (API.md, Administration), and
 * the restore README gives: stop the server, copy the database and the files folder back,
 * start it. Server and command line are child processes on one database, as in production.
 */
import { afterEach, describe, expect, it } from 'bun:test'
import { cpSync, existsSync, readdirSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { call, createRoom, newUser, post, tempDir, type TestUser } from './helpers'
import { runCli } from './support/cli'
import { spawnServer, type ServerProcess } from './support/server-process'

const running: ServerProcess[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop()))
})

async function server(): Promise<ServerProcess> {
  const s = await spawnServer({ env: { RATE_LIMIT_MESSAGES_PER_MINUTE: '0' } })
  running.push(s)
  return s
}

const filesOf = (s: ServerProcess) => join(dirname(s.dbPath), 'files')

/** The documented restore, with the server stopped: database over DATABASE_PATH, files over FILES_PATH. */
function restore(backup: string, s: ServerProcess) {
  for (const suffix of ['', '-wal', '-shm']) rmSync(s.dbPath + suffix, { force: true })
  cpSync(backup, s.dbPath)
  rmSync(filesOf(s), { recursive: true, force: true })
  cpSync(`${backup}.files`, filesOf(s), { recursive: true })
}

async function upload(url: string, user: TestUser, roomId: number, bytes: Uint8Array<ArrayBuffer>, name: string) {
  const form = new FormData()
  form.append('file', new File([bytes], name, { type: 'application/octet-stream' }))
  const res = await fetch(`${url}/api/chat/rooms/${roomId}/attachments`, { method: 'POST', headers: { authorization: `Bearer ${user.token}` }, body: form })
  if (res.status !== 201) throw new Error(`upload: ${res.status} ${await res.text()}`)
  return (await res.json()) as { id: number; url: string }
}

async function postWithFile(url: string, user: TestUser, roomId: number, bytes: Uint8Array<ArrayBuffer>, name: string) {
  const file = await upload(url, user, roomId, bytes, name)
  const res = await call(url, `/api/chat/rooms/${roomId}/messages`, { token: user.token, body: { content: name, attachmentIds: [file.id] } })
  if (res.status !== 201) throw new Error(`post with file: ${res.status} ${JSON.stringify(res.body)}`)
  return res.body as { id: number; attachments: { url: string }[] }
}

/** Every message of a room, oldest first, paging back from the newest. */
async function history(url: string, user: TestUser, roomId: number) {
  const all: { id: number; content: string; attachments: { url: string; size: number }[] }[] = []
  let before: number | undefined
  for (;;) {
    const res = await call(url, `/api/chat/rooms/${roomId}/messages?limit=200${before ? `&lastMessageId=${before}` : ''}`, { token: user.token })
    expect(res.status).toBe(200)
    all.unshift(...res.body)
    if (res.body.length < 200) return all
    before = res.body[0].id
  }
}

const randomBytes = (n: number) => crypto.getRandomValues(new Uint8Array(n))
const bytesOf = async (url: string, path: string, user: TestUser) => {
  const res = await fetch(url + path, { headers: { authorization: `Bearer ${user.token}` } })
  return { status: res.status, bytes: new Uint8Array(await res.arrayBuffer()) }
}

describe('backup', () => {
  it('taken during a stream of posts, restores every message that got a 201 before it began, and the files', async () => {
    const s = await server()
    const alice = await newUser(s.url, 'backup')
    const room = await createRoom(s.url, alice, { name: 'backed up' })
    const files = [randomBytes(300_000), randomBytes(1), randomBytes(70_000)]
    const withFiles = []
    for (const [i, bytes] of files.entries()) withFiles.push(await postWithFile(s.url, alice, room.id, bytes, `file-${i}`))

    // Four posters, each recording a message once its 201 has arrived.
    const confirmed: { id: number; content: string }[] = []
    let posting = true
    let seq = 0
    const posters = Array.from({ length: 4 }, async () => {
      while (posting) {
        const content = `post ${++seq}`
        const message = await post(s.url, alice, room.id, content)
        confirmed.push({ id: message.id, content })
      }
    })
    const waitForPosts = async (n: number) => {
      const target = confirmed.length + n
      while (confirmed.length < target) await Bun.sleep(5)
    }
    await waitForPosts(200)

    const before = [...confirmed]
    const backup = join(tempDir(), 'backup.db')
    const run = await runCli(['backup', backup, '--database-path', s.dbPath])
    const doneAt = confirmed.length
    await waitForPosts(50)
    posting = false
    await Promise.all(posters)

    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.lines).toHaveLength(1)
    expect(run.lines[0]).toContain(`backup written: ${backup} `)
    expect(run.lines[0]).toContain('(3 files,')
    // Posts went on while it ran (the server was not blocked), and after it.
    const after = confirmed.slice(doneAt)
    expect(after.length).toBeGreaterThanOrEqual(50)

    await s.stop()
    restore(backup, s)
    await s.restart()

    const restored = await history(s.url, alice, room.id)
    const byId = new Map(restored.map((m) => [m.id, m.content]))
    for (const m of before) expect(byId.get(m.id)).toBe(m.content)
    // The restore replaced the database: what was posted after the copy finished is not there.
    for (const m of after) expect(byId.has(m.id)).toBe(false)
    // The session made before the backup still signs alice in.
    expect((await call(s.url, '/api/auth/me', { token: alice.token })).status).toBe(200)
    for (const [i, message] of withFiles.entries()) {
      const got = await bytesOf(s.url, message.attachments[0]!.url, alice)
      expect(got.status).toBe(200)
      expect(Buffer.from(got.bytes).equals(Buffer.from(files[i]!))).toBe(true)
    }
  }, 120_000)

  it('holds every file its messages reference while messages with files are being deleted', async () => {
    const s = await server()
    const alice = await newUser(s.url, 'backup')
    const room = await createRoom(s.url, alice, { name: 'deleting' })
    const messages = []
    for (let i = 0; i < 120; i++) messages.push(await postWithFile(s.url, alice, room.id, randomBytes(512 * 1024), `f${i}`))

    // Newest first, as the copy goes oldest first: deletions meet the files still to be copied.
    let deleting = true
    const deleter = (async () => {
      for (const message of messages.slice(20).reverse()) {
        if (!deleting) return
        const res = await call(s.url, `/api/chat/rooms/${room.id}/messages/${message.id}`, { method: 'DELETE', token: alice.token })
        expect(res.status).toBe(204)
        await Bun.sleep(3)
      }
    })()
    const backup = join(tempDir(), 'backup.db')
    const run = await runCli(['backup', backup, '--database-path', s.dbPath])
    deleting = false
    await deleter
    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)

    await s.stop()
    restore(backup, s)
    await s.restart()
    const restored = await history(s.url, alice, room.id)
    const referenced = restored.flatMap((m) => m.attachments)
    for (const attachment of referenced) expect((await bytesOf(s.url, attachment.url, alice)).status).toBe(200)
    // Exactly the referenced files: none of the deleted messages' files came along.
    const copied = readdirSync(`${backup}.files`, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
    expect(copied).toHaveLength(referenced.length)
  }, 120_000)

  it('refuses a FILE that exists, a database that does not, and a missing FILE, in one line each', async () => {
    const folder = tempDir()
    const s = await server()
    const backup = join(folder, 'one.db')
    expect((await runCli(['backup', backup, '--database-path', s.dbPath])).code).toBe(0)

    const again = await runCli(['backup', backup, '--database-path', s.dbPath])
    expect(again.code).toBe(1)
    expect(again.stderr).toBe(`chat-server: ${backup} already exists: back up to a new name\n`)
    expect(again.stdout).toBe('')

    const nowhere = join(folder, 'none.db')
    const missing = await runCli(['backup', join(folder, 'two.db'), '--database-path', nowhere])
    expect(missing.code).toBe(1)
    expect(missing.stderr).toBe(`chat-server: no database at ${nowhere} (set DATABASE_PATH or --database-path)\n`)
    expect(existsSync(nowhere)).toBe(false)
    expect(existsSync(join(folder, 'two.db'))).toBe(false)

    const noFile = await runCli(['backup', '--database-path', s.dbPath])
    expect(noFile.code).toBe(2)
    expect(noFile.stderr).toBe('chat-server: missing FILE (usage: chat-server backup FILE)\n')

    const noFolder = await runCli(['backup', join(folder, 'absent', 'x.db'), '--database-path', s.dbPath])
    expect(noFolder.code).toBe(1)
    expect(noFolder.stderr).toBe(`chat-server: folder ${join(folder, 'absent')} does not exist\n`)
    // Only the two finished names: no partial copy is left behind.
    expect(readdirSync(folder).sort()).toEqual(['one.db', 'one.db.files'])
  }, 60_000)

  it('says so when a file its database references was already gone from disk, and copies the rest', async () => {
    const s = await server()
    const alice = await newUser(s.url, 'backup')
    const room = await createRoom(s.url, alice)
    await postWithFile(s.url, alice, room.id, randomBytes(100), 'kept.bin')
    await postWithFile(s.url, alice, room.id, randomBytes(100), 'lost.bin')
    const stored = readdirSync(filesOf(s), { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && !e.parentPath.endsWith('incoming'))
    expect(stored).toHaveLength(2)
    const lost = stored[1]!
    rmSync(join(lost.parentPath, lost.name))
    const backup = join(tempDir(), 'partial.db')
    const run = await runCli(['backup', backup, '--database-path', s.dbPath])
    expect(run.code).toBe(0)
    expect(run.lines[0]).toContain('(1 file, ')
    expect(run.lines[0]).toEndWith(`; 1 referenced file(s) were already missing from ${filesOf(s)}`)
  }, 60_000)

  it('reads DATABASE_PATH and FILES_PATH from the environment like the server, wherever the files live', async () => {
    const elsewhere = join(tempDir(), 'uploads')
    const s = await spawnServer({ env: { FILES_PATH: elsewhere } })
    running.push(s)
    const alice = await newUser(s.url, 'backup')
    const room = await createRoom(s.url, alice)
    await postWithFile(s.url, alice, room.id, randomBytes(1000), 'far.bin')
    const backup = join(tempDir(), 'env.db')
    const run = await runCli(['backup', backup], { env: { DATABASE_PATH: s.dbPath, FILES_PATH: elsewhere } })
    expect(run.code).toBe(0)
    expect(run.lines[0]).toContain('(1 file,')
    const copied = readdirSync(`${backup}.files`, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
    expect(copied.map((e) => e.name)).toEqual(readdirSync(elsewhere, { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && !e.parentPath.endsWith('incoming')).map((e) => e.name))
  }, 60_000)
})
