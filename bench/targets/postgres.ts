/**
 * Ours on the PostgreSQL store (DATABASE_URL): the same binary, users, rooms and readers as
 * `ours`, each scenario on a PostgreSQL database of its own. `--store postgres` runs it beside
 * `ours` on the scenarios the issue compares.
 */
import { ours } from './ours'
import { seedPostgresHistory } from './postgres-seed'
import { storeHistory, type Target } from './target'

const RUN = `${process.pid.toString(36)}${Date.now().toString(36)}`

export const postgres: Target = {
  ...ours,
  name: 'postgres',
  store: 'postgres',
  runs: scenario => scenario === 'fanout' || scenario === 'ingest' || scenario === 'history',

  seedHistory: (url, shape) => seedPostgresHistory(url, shape, `seed${RUN}`),

  async openHistory(url) {
    // Loaded only here, as deps.ts loads it: a SQLite-only run never touches it.
    const { createPostgresStore } = await import('../../src/store/postgres')
    const store = await createPostgresStore({ url })
    return storeHistory(store)
  },
}
