import type { Bus, Presence } from './bus/bus'
import { createMemoryBus, createMemoryPresence } from './bus/memory'
import type { Config } from './config'
import { createPushSender, vapidSubject } from './delivery/push'
import { createDeliveryWorker, type DeliveryWorker } from './delivery/queue'
import { createWebhookSender } from './delivery/webhook'
import { filesFolder, createFileStorage } from './files/storage'
import { createFileReaper, type FileReaper } from './files/sweep'
import type { Logger } from './log'
import { createMetrics, type Metrics } from './metrics'
import { createAttachmentService, type AttachmentService } from './modules/attachments/service'
import { createAdminService, type AdminService } from './modules/admin/service'
import { createRevocationWatch } from './modules/auth/revocation-watch'
import { createAuthService, type AuthService } from './modules/auth/service'
import { createTokenService, type TokenService } from './modules/auth/tokens'
import { createMessageService, type MessageService } from './modules/messages/service'
import { createPushService, loadVapidKeys, type PushService } from './modules/push/service'
import { createRoomService, type RoomService } from './modules/rooms/service'
import { startSearchBackfill } from './modules/search/backfill'
import { createSearchService, type SearchService } from './modules/search/service'
import { createUserService, type UserService } from './modules/users/service'
import { createSqliteStore } from './store/sqlite'
import type { Store } from './store/store'
import { createStreamHub, type StreamHub } from './stream/hub'

export interface Deps {
  config: Config
  log: Logger
  metrics: Metrics
  store: Store
  bus: Bus
  presence: Presence
  auth: AuthService
  tokens: TokenService
  admin: AdminService
  users: UserService
  rooms: RoomService
  messages: MessageService
  attachments: AttachmentService
  search: SearchService
  push: PushService
  /** Sends the webhook calls and pushes of the queue in the store. */
  delivery: DeliveryWorker
  /** Keeps the files on disk in step with the database (purge after deletions, the orphan sweep). */
  files: FileReaper
  streams: StreamHub
  /** Stops timers and closes the bus, presence and store (after the server stopped). */
  close(): Promise<void>
}

/**
 * Builds everything the app needs from the configuration. The only place that picks concrete
 * implementations: SQLite for the store, Redis or in-process for the bus and presence.
 */
export async function createDeps(config: Config, log: Logger): Promise<Deps> {
  const metrics = createMetrics()
  const store = countStoredMessages(await openStore(config, log), metrics)
  const { bus, presence } = await createMessaging(config, log)
  const auth = createAuthService({
    store,
    bus,
    allowRegistration: config.allowRegistration,
    authAttemptsPerMinute: config.rateLimitAuthPerMinute,
    sessionTtlDays: config.sessionTtlDays,
    cacheSessions: config.redisUrl === undefined,
  })
  const tokens = createTokenService({ store, auth })
  const admin = createAdminService({ store, auth })
  const users = createUserService({ store, presence })
  const storage = createFileStorage(filesFolder(config))
  const files = createFileReaper({ store, storage, log })
  const releaseFiles = () => void files.purge()
  const rooms = createRoomService({ store, bus, presence, releaseFiles })
  const messages = createMessageService({ store, bus, rooms, messagesPerMinute: config.rateLimitMessagesPerMinute, releaseFiles })
  const attachments = createAttachmentService({ store, rooms, storage, maxUploadBytes: config.maxUploadBytes })
  files.start(config.uploadSweepIntervalMs)
  const search = createSearchService({ store, rooms })
  const searchBackfill = startSearchBackfill({ store, log })
  const vapidKeys = await loadVapidKeys(store)
  const push = createPushService({ store, keys: vapidKeys, allowHttp: config.pushAllowHttp })
  const delivery = createDeliveryWorker({
    store,
    senders: {
      webhook: createWebhookSender({ store, messages, presence, log, publicUrl: config.publicUrl }),
      push: createPushSender({ store, presence, keys: vapidKeys, subject: vapidSubject(config.publicUrl), awayMs: config.pushAwayMs }),
    },
    metrics,
    log,
    concurrency: config.deliveryConcurrency,
    timeoutMs: config.webhookTimeoutMs,
    retryBaseMs: config.deliveryRetryBaseMs,
    giveUpMs: config.deliveryGiveUpMs,
  })
  const streams = await createStreamHub({
    store,
    bus,
    presence,
    metrics,
    log,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    maxQueuedBytes: config.streamMaxBufferBytes,
    safetyPoll: config.redisUrl !== undefined,
  })
  // What another process (the CLI, an instance whose bus message was lost) ended or changed.
  const revocations = await createRevocationWatch({
    store,
    log,
    apply: ({ userId, sessionId }) => {
      if (sessionId === null) return auth.accountChanged(userId)
      auth.forgetSession(sessionId)
      streams.endSession(userId, sessionId)
    },
  })

  return {
    config,
    log,
    metrics,
    store,
    bus,
    presence,
    auth,
    tokens,
    admin,
    users,
    rooms,
    messages,
    attachments,
    search,
    push,
    delivery,
    files,
    streams,
    async close() {
      streams.stop()
      revocations.stop()
      await files.stop()
      searchBackfill.stop()
      await delivery.stop()
      await Promise.allSettled([bus.close(), presence.close()])
      await store.close()
    },
  }
}

/**
 * The store: PostgreSQL when DATABASE_URL is set (instances on many hosts), else the SQLite
 * file. The PostgreSQL code is loaded only then, as Redis's is.
 */
export async function openStore(config: Pick<Config, 'databasePath' | 'databaseUrl' | 'databaseTimeoutMs'>, log: Logger): Promise<Store> {
  if (config.databaseUrl === undefined) return createSqliteStore(config.databasePath)
  const { createPostgresStore } = await import('./store/postgres')
  return createPostgresStore({
    url: config.databaseUrl,
    queryTimeoutMs: config.databaseTimeoutMs,
    onRecycle: (streak) => log.warn('database pool recycled after queries timed out', { streak }),
  })
}

async function createMessaging(config: Config, log: Logger): Promise<{ bus: Bus; presence: Presence }> {
  if (config.redisUrl === undefined) {
    const bus = createMemoryBus((error) => log.error('bus handler failed', { error: String(error) }))
    return { bus, presence: createMemoryPresence() }
  }
  // Loaded only in Redis mode: with the in-process bus, no Redis code is on the path.
  const { createRedisBus } = await import('./bus/redis')
  const { createRedisPresence } = await import('./bus/redis-presence')
  const instanceId = crypto.randomUUID()
  const redisLog = (level: 'debug' | 'info' | 'warn' | 'error', msg: string, fields?: Record<string, unknown>) => log[level](msg, fields)
  return {
    bus: createRedisBus({ url: config.redisUrl, instanceId, log: redisLog }),
    presence: createRedisPresence({ url: config.redisUrl, instanceId, log: redisLog, recentMs: config.pushAwayMs }),
  }
}

/** Counts every message the store writes (posts, JOIN, LEAVE), whichever service wrote it. */
function countStoredMessages(store: Store, metrics: Metrics): Store {
  const counted = <A extends unknown[], R>(write: (...args: A) => Promise<R>, stored: (result: R) => boolean) =>
    async (...args: A) => {
      const result = await write(...args)
      if (stored(result)) metrics.messagesStored.inc()
      return result
    }
  return {
    ...store,
    postMessage: counted(store.postMessage, (r) => r.created),
    addParticipant: counted(store.addParticipant, (r) => r !== null),
    removeParticipant: counted(store.removeParticipant, (r) => r !== null),
  }
}
