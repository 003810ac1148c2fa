/** The file guarantees of `Store` (test/store/files-contract.ts) on the PostgreSQL store. */
import { createPostgresStore } from '../../src/store/postgres'
import { runFileStoreContract } from './files-contract'
import { skipWithoutPostgres } from '../support/postgres'
import { reusedDatabase } from '../support/postgres-reuse'

if (!(await skipWithoutPostgres())) {
  const database = reusedDatabase('files')
  runFileStoreContract('postgres', async () => {
    const store = await createPostgresStore({ url: await database.empty() })
    return { store, cleanup: () => store.close() }
  })
}
