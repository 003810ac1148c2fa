import type { Store } from '../store'
import { openDatabase } from './database'
import { createEventStore } from './events'
import { createFileStore } from './files'
import { createInviteStore } from './invites'
import { createMessageStore } from './messages'
import { createOutgoingStore } from './outgoing'
import { createPushStore } from './push'
import { createResetStore } from './resets'
import { createRevocationStore } from './revocations'
import { createRoomStore } from './rooms'
import { createSearchStore } from './search'
import { createSessionStore } from './sessions'
import { createUserStore } from './users'

export { openDatabase } from './database'

/**
 * The SQLite store: one database handle (one writer, WAL), one part per concern, composed
 * into the one `Store`. Parts share the handle, so a method of one part can write another
 * part's rows inside its own transaction (a membership change and its JOIN message).
 */
export function createSqliteStore(path: string): Store {
  const db = openDatabase(path)
  const { writer: eventWriter, ...events } = createEventStore(db)
  const { writer: fileWriter, ...files } = createFileStore(db)
  const { writer, ...messages } = createMessageStore(db, eventWriter, fileWriter)
  const { writer: revocations, ...revocationLog } = createRevocationStore(db)
  const { writer: sessionWriter, ...sessions } = createSessionStore(db, revocations)
  const { writer: resetWriter, ...resets } = createResetStore(db, sessionWriter, revocations)
  const { writer: inviteWriter, ...invites } = createInviteStore(db)
  return {
    ...createUserStore(db, { sessions: sessionWriter, resets: resetWriter, invites: inviteWriter, revocations }),
    ...sessions,
    ...resets,
    ...invites,
    ...revocationLog,
    ...createRoomStore(db, writer),
    ...messages,
    ...events,
    ...files,
    ...createSearchStore(db),
    ...createOutgoingStore(db),
    ...createPushStore(db),
    async ping() {
      try {
        return db.query('SELECT 1 AS ok').get() !== null
      } catch {
        return false
      }
    },
    async close() {
      db.close()
    },
  }
}
