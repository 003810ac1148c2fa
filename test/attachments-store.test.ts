/** The file guarantees of `Store` (test/store/files-contract.ts) on the SQLite store. */
import { join } from 'node:path'
import { createSqliteStore } from '../src/store/sqlite'
import { tempDir } from './helpers'
import { runFileStoreContract } from './store/files-contract'

runFileStoreContract('sqlite', async () => {
  const store = createSqliteStore(join(tempDir(), 'chat.db'))
  return { store, cleanup: async () => store.close() }
})
