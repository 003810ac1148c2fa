import type { Store } from '../store'
import { openDatabase, type DatabaseOptions } from './database'
import { createAccountStore } from './accounts'
import { createEventStore } from './events'
import { createFileStore } from './files'
import { createMessageStore } from './messages'
import { createOutgoingStore } from './outgoing'
import { createPushStore } from './push'
import { createRoomStore } from './rooms'
import { createSearchStore } from './search'

/**
 * The PostgreSQL store, for instances on many hosts: one pool (every call under a deadline:
 * database.ts), one part per concern, composed into the one `Store`. A part that writes another
 * part's rows (a post taking its files) does it through that part's writer, inside its own
 * transaction.
 */
export async function createPostgresStore(options: DatabaseOptions): Promise<Store> {
  const db = await openDatabase(options)
  const { writer: fileWriter, ...files } = createFileStore(db)
  const { writer: messageWriter, ...messages } = createMessageStore(db, fileWriter)
  return {
    ...createAccountStore(db),
    ...createRoomStore(db, messageWriter),
    ...messages,
    ...createEventStore(db),
    ...files,
    ...createSearchStore(db),
    ...createOutgoingStore(db),
    ...createPushStore(db),
    ping: () => db.ping(),
    close: () => db.close(),
  }
}
