import { join } from 'node:path'
import { createSqliteStore } from '../../src/store/sqlite'
import { createPostgresStore } from '../../src/store/postgres'
import { tempDir } from '../helpers'
import { createTestDatabase, skipWithoutPostgres } from '../support/postgres'
import { runAccountsContract } from './accounts-contract'

// Each run has a second store on the same database, as another process or host would have.
runAccountsContract('sqlite', async () => {
  const path = join(tempDir(), 'chat.db')
  const store = createSqliteStore(path)
  const peer = createSqliteStore(path)
  return {
    store,
    peer,
    async cleanup() {
      await peer.close()
      await store.close()
    },
  }
})

if (!(await skipWithoutPostgres())) {
  runAccountsContract('postgres', async () => {
    const database = await createTestDatabase('accounts')
    const store = await createPostgresStore({ url: database.url })
    const peer = await createPostgresStore({ url: database.url })
    return {
      store,
      peer,
      async cleanup() {
        await Promise.all([store.close(), peer.close()])
        await database.drop()
      },
    }
  })
}
