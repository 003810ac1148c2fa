import { Elysia, NotFoundError } from 'elysia'
// A macro: bundled when this module is transpiled, so the binary embeds the client (see bundle.ts).
import { bundleClient } from '../../ui/bundle.ts' with { type: 'macro' }

/**
 * The page may run only its own bundled script and style, talk only to this origin, and not be
 * framed: injected markup, should any slip through, can neither run nor load anything.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ')

const SECURITY_HEADERS = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'X-Frame-Options': 'DENY',
  'Cross-Origin-Opener-Policy': 'same-origin',
}

const files = new Map(
  bundleClient().map((file) => [
    file.path,
    {
      body: file.body,
      headers: {
        ...SECURITY_HEADERS,
        'Content-Type': file.contentType,
        // The page is checked on every visit (it names the current assets); the assets are
        // content-hashed, so a browser never needs to ask for one twice.
        'Cache-Control': file.immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      },
    },
  ]),
)

function serve(path: string): Response {
  const file = files.get(path)
  if (!file) throw new NotFoundError()
  return new Response(file.body, { headers: file.headers })
}

/** The web client: the page at `/`, its scripts, styles and icon under `/assets/`. */
export const webRoutes = new Elysia({ name: 'web' })
  .get('/', () => serve('/'), { detail: { hide: true } })
  .get('/assets/:file', ({ params }) => serve(`/assets/${params.file}`), { detail: { hide: true } })
