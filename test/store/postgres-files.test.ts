/**
 * The file guarantees of `Store` on the PostgreSQL store: the same suite as the SQLite store's
 * (test/attachments-store.test.ts; importing it registers that file's SQLite run here too).
 */
import { createPostgresStore } from '../../src/store/postgres'
import { runFileStoreContract } from '../attachments-store.test'
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
