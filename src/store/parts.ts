import type { Store } from './store'

/**
 * The `Store` methods each concern's part implements, the same in every implementation
 * (src/store/sqlite, src/store/postgres): a part's factory returns its Pick of the interface.
 */
export type UserStore = Pick<
  Store,
  | 'createUser' | 'createBot' | 'findCredentials' | 'getUser' | 'findUserByUsername' | 'searchUsers' | 'listUsers'
  | 'activeUserIds' | 'updateDisplayName' | 'setRole' | 'setDeactivated' | 'setPassword'
>
export type SessionStore = Pick<
  Store,
  'createSession' | 'findSession' | 'extendSession' | 'touchSession' | 'deleteSession' | 'sessionAlive' | 'listTokens' | 'deleteToken'
>
export type ResetStore = Pick<Store, 'createPasswordReset' | 'passwordResetLive' | 'resetPassword'>
export type InviteStore = Pick<Store, 'createInvite' | 'findLiveInvite' | 'liveInvites' | 'deleteInvite'>
export type RevocationStore = Pick<Store, 'revocationsAfter' | 'lastRevocationId'>
export type RoomStore = Pick<
  Store,
  | 'createRoom'
  | 'ensureDirectRoom'
  | 'getRoomFor'
  | 'participantsOf'
  | 'roomIdsOf'
  | 'roomSummaries'
  | 'roomSummary'
  | 'publicRoomsNotJoined'
  | 'deleteRoom'
  | 'addParticipant'
  | 'removeParticipant'
  | 'setNotificationLevel'
  | 'participantUsernames'
>
export type MessageStore = Pick<
  Store,
  | 'postMessage'
  | 'getMessage'
  | 'editMessage'
  | 'deleteMessage'
  | 'setReaction'
  | 'mentionsOf'
  | 'findClientMessage'
  | 'history'
  | 'markRead'
>
export type EventStore = Pick<Store, 'eventsAfter' | 'userEventsAfter' | 'roomEventsAfter' | 'maxEventId'>
export type FileStore = Pick<Store, 'createFile' | 'getFile' | 'deleteUnattachedFiles' | 'pendingFileRemovals' | 'fileRemoved' | 'knownStorageKeys'>
export type SearchStore = Pick<Store, 'searchMessages' | 'indexSearchBacklog'>
export type OutgoingStore = Pick<
  Store,
  'claimOutgoing' | 'finishOutgoing' | 'retryOutgoing' | 'outgoingBacklog' | 'webhookOf' | 'recordWebhookDelivery' | 'listBots' | 'serverKey'
>
export type PushStore = Pick<Store, 'savePushSubscription' | 'deletePushSubscription' | 'getPushSubscription' | 'removePushSubscription'>

/** A session or access token to store (createSession's input), as the parts write it for one another. */
export type NewSession = Parameters<Store['createSession']>[0]
