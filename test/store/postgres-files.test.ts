/** The file guarantees of `Store` (test/store/files-contract.ts) on the PostgreSQL store. */
import { createPostgresStore } from '../../src/store/postgres'
import { runFileStoreContract } from './files-contract'
import { createTestDatabase, skipWithoutPostgres } from '../support/postgres'

if (!(await skipWithoutPostgres())) {
  runFileStoreContract('postgres', async () => {
    const database = await createTestDatabase('files')
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
