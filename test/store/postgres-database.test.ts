import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { SQL } from 'bun'
import { SchemaTooNewError } from '../../src/store/migrations'
import { openDatabase, type Database } from '../../src/store/postgres/database'
import { MIGRATIONS } from '../../src/store/postgres/migrations'
import { StoreUnavailableError } from '../../src/store/store'
import { createTestDatabase, skipWithoutPostgres, type TestDatabase } from '../support/postgres'
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy'

/**
 * The PostgreSQL store's connection handling against a real PostgreSQL, reached through a TCP
 * forwarder the test can cut: a partition must answer StoreUnavailableError within the
 * deadline, never hang, and the pool must come back once the link heals.
 */
describe.skipIf(await skipWithoutPostgres())('the PostgreSQL database handle', () => {
  let database: TestDatabase
  let proxy: TcpProxy
  const opened: Database[] = []
  const viaProxy = () => {
    const url = new URL(database.url)
    url.hostname = '127.0.0.1'
    url.port = String(proxy.port)
    return url.toString()
  }

  beforeAll(async () => {
    database = await createTestDatabase('handle')
    const target = new URL(database.url)
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) })
  })
  afterAll(async () => {
    await Promise.all(opened.map((db) => db.close()))
    proxy.close()
    await database.drop()
  })
  const open = async (options: Partial<Parameters<typeof openDatabase>[0]> = {}) => {
    const db = await openDatabase({ url: database.url, ...options })
    opened.push(db)
    return db
  }

  it('migrates a new database once, with instances starting together', async () => {
    const handles = await Promise.all([open(), open(), open()])
    const [row] = await handles[0]!.run((sql) => sql`SELECT version FROM chat_schema`)
    expect(Number(row.version)).toBe(MIGRATIONS.length)
    const [seq] = await handles[1]!.run((sql) => sql`SELECT last_id FROM event_sequence`)
    expect(Number(seq.last_id)).toBe(0)
  })

  it('refuses a database whose schema is newer than this server', async () => {
    const other = await createTestDatabase('newer')
    try {
      const first = await openDatabase({ url: other.url })
      await first.run((sql) => sql`UPDATE chat_schema SET version = ${MIGRATIONS.length + 1}`)
      await first.close()
      const error = await openDatabase({ url: other.url }).catch((e) => e)
      expect(error).toBeInstanceOf(SchemaTooNewError)
      expect(String(error.message)).toContain('newer than this server supports')
    } finally {
      await other.drop()
    }
  })

  it('rolls a transaction back when its work throws', async () => {
    const db = await open()
    await db.run((sql) => sql`CREATE TABLE IF NOT EXISTS scratch (n int)`)
    const error = await db
      .tx(async (tx) => {
        await tx`INSERT INTO scratch VALUES (1)`
        throw new Error('no')
      })
      .catch((e) => e)
    expect(error.message).toBe('no')
    const [row] = await db.run((sql) => sql`SELECT count(*)::int AS n FROM scratch`)
    expect(row.n).toBe(0)
  })

  it('answers StoreUnavailableError within the deadline across a partition, recycles the pool after a streak, and serves again once healed', async () => {
    const recycled: number[] = []
    const db = await open({ url: viaProxy(), queryTimeoutMs: 400, onRecycle: (streak) => recycled.push(streak) })
    expect(await db.ping()).toBe(true)

    proxy.blackHole()
    const timings: number[] = []
    for (let i = 0; i < 3; i++) {
      const started = performance.now()
      const error = await db.run((sql) => sql`SELECT 1`).catch((e) => e)
      timings.push(performance.now() - started)
      expect(error).toBeInstanceOf(StoreUnavailableError)
    }
    const txError = await db.tx(async (tx) => tx`SELECT 1`).catch((e) => e)
    expect(txError).toBeInstanceOf(StoreUnavailableError)
    expect(await db.ping()).toBe(false)
    // Each call gave up at its deadline, not later; the third in a row replaced the pool.
    for (const ms of timings) expect(ms).toBeLessThan(400 + 300)
    expect(recycled.length).toBe(1)
    // Then it is presumed unreachable: calls fail at once while a probe waits for an answer.
    const fastStarted = performance.now()
    expect(await db.run((sql) => sql`SELECT 1`).catch((e) => e)).toBeInstanceOf(StoreUnavailableError)
    const fastMs = performance.now() - fastStarted
    expect(fastMs).toBeLessThan(100)
    console.log(`[postgres] partitioned calls failed after ${timings.map((ms) => ms.toFixed(0)).join(', ')} ms (deadline 400 ms); pool recycled once; then at once (${fastMs.toFixed(1)} ms)`)

    proxy.heal()
    const healedAt = performance.now()
    let answered = false
    while (!answered && performance.now() - healedAt < 5_000) {
      answered = await db.ping()
      if (!answered) await Bun.sleep(20)
    }
    expect(answered).toBe(true)
    const [row] = await db.run((sql) => sql`SELECT 41 + 1 AS n`)
    expect(row.n).toBe(42)
    console.log(`[postgres] answering again ${(performance.now() - healedAt).toFixed(0)} ms after the link healed`)
  })

  it('answers StoreUnavailableError at once when the server refuses connections', async () => {
    const refusing = await startTcpProxy({ host: '127.0.0.1', port: 5432 })
    const url = new URL(database.url)
    url.hostname = '127.0.0.1'
    url.port = String(refusing.port)
    const db = await open({ url: url.toString(), queryTimeoutMs: 3_000 })
    refusing.refuse()
    const started = performance.now()
    const error = await db.run((sql) => sql`SELECT 1`).catch((e) => e)
    expect(error).toBeInstanceOf(StoreUnavailableError)
    expect(performance.now() - started).toBeLessThan(3_000)
    refusing.close()
  })

  it('lets PostgreSQL stop a statement that runs past the deadline (statement_timeout)', async () => {
    const db = await open({ queryTimeoutMs: 500 })
    const error = await db.run((sql) => sql`SELECT pg_sleep(5)`).catch((e) => e)
    expect(error).toBeInstanceOf(StoreUnavailableError)
    // The server gave up too: nothing of it still runs.
    const admin = new SQL(database.url, { max: 1 })
    await Bun.sleep(300)
    const running = await admin`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' AND state = 'active'`
    await admin.close()
    expect(running[0].n).toBe(0)
  })
})
