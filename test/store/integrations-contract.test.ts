import { join } from 'node:path'
import { createPostgresStore } from '../../src/store/postgres'
import { createSqliteStore } from '../../src/store/sqlite'
import type { Store } from '../../src/store/store'
import { tempDir } from '../helpers'
import { createTestDatabase, skipWithoutPostgres } from '../support/postgres'
import { runIntegrationsContract } from './integrations-contract'

runIntegrationsContract('sqlite', async () => {
  const path = join(tempDir(), 'chat.db')
  const stores: Store[] = [createSqliteStore(path)]
  return {
    store: stores[0]!,
    async another() {
      const store = createSqliteStore(path)
      stores.push(store)
      return store
    },
    async cleanup() {
      for (const store of stores) await store.close()
    },
  }
})

if (!(await skipWithoutPostgres())) {
  runIntegrationsContract('postgres', async () => {
    const database = await createTestDatabase('integrations')
    const stores: Store[] = [await createPostgresStore({ url: database.url })]
    return {
      store: stores[0]!,
      async another() {
        const store = await createPostgresStore({ url: database.url })
        stores.push(store)
        return store
      },
      async cleanup() {
        for (const store of stores) await store.close()
        await database.drop()
      },
    }
  })
}
