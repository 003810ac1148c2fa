import type { Store } from '../store'
import type { Database } from './database'
import { createInviteStore, inviteWriter } from './accounts-invites'
import { createResetStore, resetWriter } from './accounts-resets'
import { createRevocationStore, revocationWriter } from './accounts-revocations'
import { createSessionStore, sessionWriter } from './accounts-sessions'
import { createUserStore } from './accounts-users'

export type AccountStore = Pick<
  Store,
  | 'createUser' | 'createBot' | 'findCredentials' | 'getUser' | 'findUserByUsername' | 'searchUsers' | 'listUsers'
  | 'updateDisplayName' | 'setRole' | 'setDeactivated' | 'setPassword' | 'activeUserIds'
  | 'createSession' | 'findSession' | 'extendSession' | 'touchSession' | 'deleteSession' | 'sessionAlive' | 'listTokens' | 'deleteToken'
  | 'createPasswordReset' | 'passwordResetLive' | 'resetPassword'
  | 'createInvite' | 'findLiveInvite' | 'liveInvites' | 'deleteInvite'
  | 'revocationsAfter' | 'lastRevocationId'
>

/**
 * Accounts on PostgreSQL: users, sessions and access tokens, password resets, invites and the
 * revocation log, one file per concern (accounts-*.ts), the way the SQLite store splits them.
 * A change of one part that writes another's rows (a deactivation ending sessions and logging
 * revocations) goes through that part's writer, inside the caller's transaction.
 */
export function createAccountStore(db: Database): AccountStore {
  const parts = { sessions: sessionWriter, resets: resetWriter, invites: inviteWriter, revocations: revocationWriter }
  return {
    ...createUserStore(db, parts),
    ...createSessionStore(db, revocationWriter),
    ...createResetStore(db, sessionWriter, revocationWriter),
    ...createInviteStore(db),
    ...createRevocationStore(db),
  }
}
