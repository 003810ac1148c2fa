import { openapi } from '@elysiajs/openapi'
import { Elysia } from 'elysia'
// Embedded in the binary: the UI works with no internet (the plugin's default is a CDN).
import swaggerBundle from 'swagger-ui-dist/swagger-ui-bundle.js' with { type: 'file' }
import swaggerCss from 'swagger-ui-dist/swagger-ui.css' with { type: 'file' }

const ASSETS = '/swagger/assets'
const immutable = { 'cache-control': 'public, max-age=86400' }

/** The OpenAPI document (/swagger/json) and Swagger UI (/swagger), built from the route schemas. */
export function docsRoutes(version: string) {
  return new Elysia()
    .get(`${ASSETS}/swagger-ui-bundle.js`, () => new Response(Bun.file(swaggerBundle), { headers: { 'content-type': 'text/javascript; charset=utf-8', ...immutable } }), { detail: { hide: true } })
    .get(`${ASSETS}/swagger-ui.css`, () => new Response(Bun.file(swaggerCss), { headers: { 'content-type': 'text/css; charset=utf-8', ...immutable } }), { detail: { hide: true } })
    .use(
      openapi({
        path: '/swagger',
        provider: 'swagger-ui',
        swagger: { cdn: `${ASSETS}/swagger-ui-bundle.js`, theme: `${ASSETS}/swagger-ui.css`, autoDarkMode: true },
        documentation: {
          info: {
            title: 'Team chat API',
            version,
            description:
              'Send with POST, receive live over Server-Sent Events. Every /api/chat route needs a session: `Authorization: Bearer <token>` or the session cookie. Errors are `{"error": {"code", "message"}}`.',
          },
          tags: [
            { name: 'auth', description: 'Accounts and sessions' },
            { name: 'users', description: 'People' },
            { name: 'rooms', description: 'Group and direct rooms' },
            { name: 'messages', description: 'History, posting, read markers, typing' },
            { name: 'streams', description: 'Server-Sent Events' },
            { name: 'push', description: 'Web Push: the VAPID key and subscriptions' },
            { name: 'operations', description: 'Health, readiness, metrics' },
          ],
          components: {
            securitySchemes: {
              bearer: { type: 'http', scheme: 'bearer', description: 'the token from register or login' },
              cookie: { type: 'apiKey', in: 'cookie', name: 'chat_session' },
            },
          },
          security: [{ bearer: [] }, { cookie: [] }],
        },
      }),
    )
}
