import { join } from 'node:path'
import { createSqliteStore } from '../../src/store/sqlite'
import { createPostgresStore } from '../../src/store/postgres'
import { tempDir } from '../helpers'
import { createTestDatabase, skipWithoutPostgres } from '../support/postgres'
import { runAccountsContract } from './accounts-contract'

runAccountsContract('sqlite', async () => {
  const store = createSqliteStore(join(tempDir(), 'chat.db'))
  return { store, cleanup: async () => store.close() }
})

if (!(await skipWithoutPostgres())) {
  runAccountsContract('postgres', async () => {
    const database = await createTestDatabase('accounts')
    const store = await createPostgresStore({ url: database.url })
    return {
      store,
      async cleanup() {
        await store.close()
        await database.drop()
      },
    }
  })
}
