import { Elysia, t } from 'elysia'
import type { AuthPlugin } from '../auth/plugin'
import { errors, Id } from '../common/model'
import { Attachment } from '../messages/model'
import { RoomParams } from '../rooms/model'
import { fileResponse } from './serve'
import type { AttachmentService } from './service'

/** The upload route as the body limits name it (app.ts): it reads its own body, as a stream. */
export const UPLOAD_ROUTE = 'POST /api/chat/rooms/{roomId}/attachments'

const FileParams = t.Object({
  id: Id,
  name: t.String({ description: 'the file name, URL-encoded (any value reaches the same file)', examples: ['notes.pdf'] }),
})

const multipartBody = {
  content: {
    'multipart/form-data': {
      schema: { type: 'object' as const, required: ['file'], properties: { file: { type: 'string' as const, format: 'binary' } } },
    },
  },
}

export function attachmentRoutes({ attachments, authPlugin, maxUploadBytes }: { attachments: AttachmentService; authPlugin: AuthPlugin; maxUploadBytes: number }) {
  return new Elysia({ prefix: '/api/chat', tags: ['files'] })
    .use(authPlugin)
    .post(
      '/rooms/:roomId/attachments',
      async ({ params, request, session, set }) => {
        const attachment = await attachments.upload(params.roomId, session.user.id, request)
        set.status = 201
        return attachment
      },
      {
        auth: true,
        params: RoomParams,
        // The body is left unread for the handler, which streams it to disk (app.ts's JSON
        // parser leaves this route alone; answering here marks the body as handled).
        parse: () => null,
        response: { 201: Attachment, ...errors(400, 401, 403, 404, 413, 415) },
        detail: {
          summary: 'Upload a file',
          description: `multipart/form-data with one part named \`file\`, written to disk as it arrives; at most ${maxUploadBytes} bytes (MAX_UPLOAD_BYTES), else 413 and nothing is kept. Participants only. The file name is metadata (path separators and control characters removed). Post it with \`attachmentIds\` within 24 hours, or it is deleted.`,
          requestBody: multipartBody,
        },
      },
    )
    .get(
      '/attachments/:id/:name',
      async ({ params, request, session }) => {
        const { file, path } = await attachments.open(params.id, session.user.id)
        return fileResponse(file, path, request)
      },
      {
        auth: true,
        params: FileParams,
        response: { 200: t.Any({ description: 'the bytes' }), 206: t.Any({ description: 'the requested range' }), 304: t.Void(), ...errors(400, 401, 404, 416) },
        detail: {
          summary: 'Download a file',
          description:
            'For whoever may read its room (an upload not yet posted: its uploader only); others and unknown ids 404. Content-Type is the stored type for common images, audio, video, PDF and text/plain, else application/octet-stream; images, audio and video inline, the rest as attachment downloads. Always nosniff and a sandbox CSP. ETag with If-None-Match (304); one byte Range (206, 416 past the end).',
        },
      },
    )
}
