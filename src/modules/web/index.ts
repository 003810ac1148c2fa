import { Elysia, NotFoundError } from 'elysia'
// A macro: bundled when this module is transpiled, so the binary embeds the client (see bundle.ts).
import { bundleClient } from '../../ui/bundle.ts' with { type: 'macro' }
import { appIcon, bundleWorker } from '../../ui/root-files.ts' with { type: 'macro' }

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

// Served at fixed root paths, not as hashed assets: the worker's URL decides its scope (the whole
// origin) and must not change between releases, and the installed app's manifest names its icons.
const NO_CACHE = 'no-cache'
const rootFile = (body: string, contentType: string) => ({
  body,
  headers: { ...SECURITY_HEADERS, 'Content-Type': contentType, 'Cache-Control': NO_CACHE },
})
files.set('/sw.js', rootFile(bundleWorker(), 'text/javascript; charset=utf-8'))
files.set('/icon.svg', rootFile(appIcon('icon.svg'), 'image/svg+xml'))
files.set('/icon-maskable.svg', rootFile(appIcon('icon-maskable.svg'), 'image/svg+xml'))

function serve(path: string): Response {
  const file = files.get(path)
  if (!file) throw new NotFoundError()
  return new Response(file.body, { headers: file.headers })
}

/**
 * The web client: the page at `/` (and at `/join` and `/reset`, whose links carry their token
 * after `#`), its scripts, styles and manifest under `/assets/`, the service worker and the
 * app icons at the root.
 */
export const webRoutes = new Elysia({ name: 'web' })
  .get('/', () => serve('/'), { detail: { hide: true } })
  .get('/join', () => serve('/'), { detail: { hide: true } })
  .get('/reset', () => serve('/'), { detail: { hide: true } })
  .get('/sw.js', () => serve('/sw.js'), { detail: { hide: true } })
  .get('/icon.svg', () => serve('/icon.svg'), { detail: { hide: true } })
  .get('/icon-maskable.svg', () => serve('/icon-maskable.svg'), { detail: { hide: true } })
  .get('/assets/:file', ({ params }) => serve(`/assets/${params.file}`), { detail: { hide: true } })
