import type { Message, NotificationLevel, Room, User } from './types.ts'

export const roomPath = (roomId: number) => `/api/chat/rooms/${roomId}`

/** An error answer of the API: `{"error": {"code", "message"}}` with its status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Seconds to wait, from `Retry-After` on a 429. */
    readonly retryAfter: number | null = null,
  ) {
    super(message)
  }
}

// Reads started early (see prefetch) and waiting for the code that needs them.
const prefetched = new Map<string, { answer: Promise<unknown>; at: number }>()
// Past this age an unclaimed early read is dropped: it was for a start-up that went otherwise.
const PREFETCH_TTL_MS = 5_000

/**
 * Starts a GET now, for the next `request` of the same path to pick up: at start-up the page
 * asks for the session, the rooms and the open room's messages together, not one by one.
 */
export function prefetch(path: string): void {
  const answer = send('GET', path)
  prefetched.set(path, { answer, at: performance.now() })
  // A failed early read is not kept (after a 401, the sign-in that follows must ask afresh).
  answer.catch(() => {
    if (prefetched.get(path)?.answer === answer) prefetched.delete(path)
  })
}

export function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const early = method === 'GET' ? prefetched.get(path) : undefined
  if (early) {
    prefetched.delete(path)
    if (performance.now() - early.at < PREFETCH_TTL_MS) return early.answer as Promise<T>
  }
  return send<T>(method, path, body)
}

async function send<T>(method: string, path: string, body?: unknown): Promise<T> {
  let response: Response
  try {
    // Same-origin: the session cookie goes along by itself, and the browser adds the
    // Origin header the server checks on cookie-authenticated POSTs.
    response = await fetch(path, {
      method,
      headers: body === undefined ? undefined : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached.')
  }
  if (response.status === 204) return undefined as T
  const data: unknown = await response.json().catch(() => null)
  if (!response.ok) throw apiError(response.status, data, response.headers.get('Retry-After'))
  return data as T
}

/** The error of a refused request, from its status and JSON body (fetch's or XMLHttpRequest's). */
export function apiError(status: number, data: unknown, retryAfterHeader: string | null): ApiError {
  const error = (data as { error?: { code?: string; message?: string } } | null)?.error
  const retryAfter = Number(retryAfterHeader)
  return new ApiError(
    status,
    error?.code ?? 'unknown',
    error?.message ?? `The server answered ${status}.`,
    Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null,
  )
}

const room = roomPath

export const ROOMS = '/api/chat/rooms'
export const SESSION = '/api/auth/me'
/** Messages per page of history. */
export const PAGE_SIZE = 50
/** Hits per page of search results (API.md's default). */
export const SEARCH_PAGE_SIZE = 20

export function messagesPath(roomId: number, cursor: { before?: number; after?: number } = {}, limit = PAGE_SIZE): string {
  const query = new URLSearchParams({ limit: String(limit) })
  if (cursor.before !== undefined) query.set('lastMessageId', String(cursor.before))
  if (cursor.after !== undefined) query.set('afterId', String(cursor.after))
  return `${room(roomId)}/messages?${query}`
}

export const api = {
  me: () => request<{ user: User }>('GET', SESSION),
  login: (username: string, password: string) =>
    request<{ user: User }>('POST', '/api/auth/login', { username, password }),
  register: (username: string, password: string, displayName?: string) =>
    request<{ user: User }>('POST', '/api/auth/register', { username, password, displayName }),
  logout: () => request<void>('POST', '/api/auth/logout'),

  users: (q = '', limit = 50) =>
    request<User[]>('GET', `/api/chat/users?${new URLSearchParams({ q, limit: String(limit) })}`),
  rooms: () => request<Room[]>('GET', ROOMS),
  publicRooms: () => request<Room[]>('GET', '/api/chat/rooms/public'),
  room: (roomId: number) => request<Room>('GET', room(roomId)),
  createRoom: (name: string, visibility: Room['visibility'], participantIds: number[]) =>
    request<Room>('POST', '/api/chat/rooms', { name, visibility, participantIds }),
  joinRoom: (roomId: number) => request<Room>('POST', `${room(roomId)}/join`),
  leaveRoom: (roomId: number) => request<void>('POST', `${room(roomId)}/leave`),
  directRoom: (userId: number) => request<Room>('POST', `/api/chat/users/${userId}/rooms`),

  /** Ascending ids; `before` pages back from an id, `after` catches up from one. */
  messages: (roomId: number, cursor: { before?: number; after?: number } = {}, limit = PAGE_SIZE) =>
    request<Message[]>('GET', messagesPath(roomId, cursor, limit)),
  /** `content` may be empty when `attachmentIds` names files (uploaded first, see upload.ts). */
  send: (roomId: number, content: string, clientMessageId: string, replyToId: number | null, attachmentIds: number[]) =>
    request<Message>('POST', `${room(roomId)}/messages`, {
      content,
      clientMessageId,
      replyToId: replyToId ?? undefined,
      attachmentIds: attachmentIds.length ? attachmentIds : undefined,
    }),
  /** Newest first, in every room of the caller or in `roomId` alone; `before` pages back from a hit's id. */
  search: (q: string, scope: { roomId?: number; before?: number } = {}, limit = SEARCH_PAGE_SIZE) => {
    const query = new URLSearchParams({ q, limit: String(limit) })
    if (scope.roomId !== undefined) query.set('roomId', String(scope.roomId))
    if (scope.before !== undefined) query.set('lastMessageId', String(scope.before))
    return request<Message[]>('GET', `/api/chat/search?${query}`)
  },
  /** The one message `messageId`, or null when it is gone: the newest message older than the next id. */
  message: async (roomId: number, messageId: number) => {
    const [found] = await request<Message[]>('GET', messagesPath(roomId, { before: messageId + 1 }, 1))
    return found?.id === messageId ? found : null
  },
  edit: (roomId: number, messageId: number, content: string) =>
    request<Message>('PATCH', `${room(roomId)}/messages/${messageId}`, { content }),
  remove: (roomId: number, messageId: number) => request<void>('DELETE', `${room(roomId)}/messages/${messageId}`),
  /** Adds (`on`) or takes back the caller's reaction; either way the answer is the message as it is now. */
  react: (roomId: number, messageId: number, emoji: string, on: boolean) =>
    request<Message>(on ? 'PUT' : 'DELETE', `${room(roomId)}/messages/${messageId}/reactions/${encodeURIComponent(emoji)}`),
  setNotifications: (roomId: number, level: NotificationLevel) =>
    request<void>('PUT', `${room(roomId)}/notifications`, { level }),
  markRead: (roomId: number, messageId: number) =>
    request<void>('POST', `${room(roomId)}/read`, { messageId }),
  typing: (roomId: number) => request<void>('POST', `${room(roomId)}/typing`),
}
