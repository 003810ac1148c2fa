import { join } from 'node:path'
import { createSqliteStore } from '../../src/store/sqlite'
import { createPostgresStore } from '../../src/store/postgres'
import { tempDir } from '../helpers'
import { skipWithoutPostgres } from '../support/postgres'
import { reusedDatabase } from '../support/postgres-reuse'
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
  const database = reusedDatabase('accounts')
  runAccountsContract('postgres', async () => {
    const url = await database.empty()
    const store = await createPostgresStore({ url })
    const peer = await createPostgresStore({ url })
    return {
      store,
      peer,
      async cleanup() {
        await Promise.all([store.close(), peer.close()])
      },
    }
  })
}
