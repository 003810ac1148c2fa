/**
 * Fuzzes every operation of the OpenAPI document (issue 9) with a fixed seed and a bounded
 * count, so a failure here fails the same way on every run. A longer run with a random seed is
 * `bun scripts/fuzz.ts`. With CHAT_SERVER_BIN set, startServer() runs the compiled binary.
 */
import { afterAll, beforeAll, describe, expect, it } from 'bun:test'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { call, openStream, startServer, tempDir, type TestServer } from './helpers'
import { fuzzRound, type FuzzRound } from './support/fuzz-world'
import { describeRequest } from './support/fuzz-send'
import { fetchOperations, type Operation } from './support/openapi-operations'

const SEED = 20261201
/** Requests over all operations (those that hash a password get a quarter share: argon2 on 2 cores). */
const TOTAL = 5000
/** Below the streams the caller opens (and drops) during the run, so a slot that is not given back shows. */
const MAX_STREAMS = 20

let server: TestServer
let operations: Operation[]
let round: FuzzRound

beforeAll(async () => {
  server = await startServer({ maxStreamsPerUser: MAX_STREAMS })
  operations = await fetchOperations(server.url)
  round = await fuzzRound(server.url, operations, SEED, TOTAL)
  const { run, seconds } = round
  console.log(`fuzz: ${run.sent} requests over ${operations.length} operations in ${seconds.toFixed(1)} s (seed ${SEED}); statuses ${JSON.stringify(Object.fromEntries(run.statuses))}`)
  // Not a failure (an admin route never succeeds for a member), but a sign of what valid requests miss.
  const unreached = operations.filter((op) => !run.succeeded.has(op.key)).map((op) => op.key)
  if (unreached.length > 0) console.log(`fuzz: no 2xx from ${unreached.join(', ')}`)
}, 120_000)
afterAll(() => server?.stop())

describe('OpenAPI fuzz', () => {
  it('reaches every operation with valid and hostile requests', () => {
    expect(operations.length).toBeGreaterThan(10)
    expect(round.run.streamsOpened).toBeGreaterThan(MAX_STREAMS)
    expect(round.run.sent).toBeGreaterThanOrEqual(TOTAL * 0.8)
    // Both kinds really ran: valid requests that succeed, hostile ones refused.
    const statuses = round.run.statuses
    expect([201, 204].every((s) => (statuses.get(s) ?? 0) > 10)).toBe(true)
    expect([400, 401, 404, 413, 415].every((s) => (statuses.get(s) ?? 0) > 10)).toBe(true)
  })

  it('answers every request without a 5xx, and every 4xx as the contract error with its status', () => {
    const { failures } = round.run
    if (failures.length === 0) return
    // The whole list, bodies uncut, for sending again.
    const file = join(tempDir(), 'fuzz-failures.json')
    writeFileSync(file, JSON.stringify(failures, null, 1))
    const shown = failures.slice(0, 15).map((f) => `${f.problem}\n  ${describeRequest(f.request)}`)
    throw new Error(`${failures.length} bad replies (all in ${file}; send them again: bun scripts/fuzz.ts --replay ${file}):\n${shown.join('\n')}`)
  })

  it('still serves afterwards, and the streams it dropped gave their slots back', async () => {
    expect((await call(server.url, '/healthz')).status).toBe(200)
    expect((await call(server.url, '/api/auth/me', { token: round.world.keeper.token })).status).toBe(200)
    // The caller opened more than MAX_STREAMS streams during the run and dropped each one.
    const stream = await openStream(server.url, '/api/chat/stream', round.world.caller.token)
    stream.close()
  })

  it('leaves the data written before it intact', () => {
    expect(round.witness).toEqual([])
  })
})
