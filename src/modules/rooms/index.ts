import { Elysia, t } from 'elysia'
import { forbidden } from '../../errors'
import type { AuthPlugin } from '../auth/plugin'
import { errors } from '../common/model'
import { AddParticipantBody, CreateRoomBody, NotificationsBody, Room, RoomListQuery, RoomParams, UserParams } from './model'
import type { RoomService } from './service'

export function roomRoutes({ rooms, authPlugin }: { rooms: RoomService; authPlugin: AuthPlugin }) {
  return new Elysia({ prefix: '/api/chat', tags: ['rooms'] })
    .use(authPlugin)
    .get(
      '/rooms',
      ({ query, session }) => {
        if (query.userId !== undefined && query.userId !== session.user.id) throw forbidden('userId: must be the signed-in user')
        return rooms.list(session.user.id)
      },
      {
        auth: true,
        query: RoomListQuery,
        response: { 200: t.Array(Room), ...errors(400, 401, 403) },
        detail: { summary: "The caller's rooms", description: 'Most recent activity first, each with lastMessage and unreadCount.' },
      },
    )
    .get('/rooms/public', ({ session }) => rooms.publicRooms(session.user.id), {
      auth: true,
      response: { 200: t.Array(Room), ...errors(401) },
      detail: { summary: 'Public rooms to join', description: 'Public rooms the caller is not in, newest first.' },
    })
    .post(
      '/rooms',
      async ({ body, session, set }) => {
        set.status = 201
        return rooms.create(session.user.id, body)
      },
      {
        auth: true,
        body: CreateRoomBody,
        parse: 'application/json',
        response: { 201: Room, ...errors(400, 401, 403, 413, 415) },
        detail: { summary: 'Create a group room', description: 'The caller is owner and participant; visibility defaults to private. Unknown or deactivated participant ids -> 400.' },
      },
    )
    .get('/rooms/:roomId', ({ params, session }) => rooms.get(params.roomId, session.user.id), {
      auth: true,
      params: RoomParams,
      response: { 200: Room, ...errors(400, 401, 404) },
      detail: { summary: 'A room with its participants', description: 'A private room the caller is not in answers 404.' },
    })
    .delete(
      '/rooms/:roomId',
      async ({ params, session, set }) => {
        await rooms.remove(params.roomId, session.user.id)
        set.status = 204
      },
      {
        auth: true,
        params: RoomParams,
        response: { 204: t.Void(), ...errors(400, 401, 403, 404) },
        detail: { summary: 'Delete a room', description: 'Owner only (a direct room: either participant). Its messages go with it; its streams get room-deleted.' },
      },
    )
    .post('/rooms/:roomId/join', ({ params, session }) => rooms.join(params.roomId, session.user.id), {
      auth: true,
      params: RoomParams,
      response: { 200: Room, ...errors(400, 401, 403, 404) },
      detail: { summary: 'Join a public room', description: 'Posts a JOIN message. Joining a room you are in changes nothing.' },
    })
    .post(
      '/rooms/:roomId/leave',
      async ({ params, session, set }) => {
        await rooms.leave(params.roomId, session.user.id)
        set.status = 204
      },
      {
        auth: true,
        params: RoomParams,
        response: { 204: t.Void(), ...errors(400, 401, 403, 404) },
        detail: { summary: 'Leave a room', description: 'Posts a LEAVE message. An owner who leaves hands the room to the longest-standing participant.' },
      },
    )
    .post('/rooms/:roomId/participants', ({ params, body, session }) => rooms.addParticipant(params.roomId, session.user.id, body.userId), {
      auth: true,
      params: RoomParams,
      body: AddParticipantBody,
      parse: 'application/json',
      response: { 200: Room, ...errors(400, 401, 403, 404, 413, 415) },
      detail: { summary: 'Add a participant', description: 'Owner only, group rooms; posts a JOIN message for that user. An unknown or deactivated user -> 404.' },
    })
    .put(
      '/rooms/:roomId/notifications',
      async ({ params, body, session, set }) => {
        await rooms.setNotificationLevel(params.roomId, session.user.id, body.level)
        set.status = 204
      },
      {
        auth: true,
        params: RoomParams,
        body: NotificationsBody,
        parse: 'application/json',
        response: { 204: t.Void(), ...errors(400, 401, 403, 404, 413, 415) },
        detail: { summary: 'Choose what to be told about', description: 'Participants only: `all`, `mentions` or `none`; the room shows it as notificationLevel.' },
      },
    )
    .post(
      '/users/:userId/rooms',
      async ({ params, session, set }) => {
        const { room, created } = await rooms.ensureDirect(session.user.id, params.userId)
        set.status = created ? 201 : 200
        return room
      },
      {
        auth: true,
        params: UserParams,
        response: { 200: Room, 201: Room, ...errors(400, 401, 404) },
        detail: { summary: 'The direct room with a user', description: '201 when created, 200 when it already existed; exactly one per pair. An unknown or deactivated user -> 404.' },
      },
    )
}
