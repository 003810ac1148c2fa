/**
 * Bundles the web client (index.html and what it links) into the files the server sends.
 *
 * Imported as a macro by src/modules/web: it runs while Bun transpiles that module (at start-up
 * when running from source, during `bun build --compile` for the binary) and its answer is
 * inlined as a constant, so the executable carries the client with no extra build step or
 * files on disk. `Bun.build` cannot run inside a macro (the bundler would wait on itself), so
 * the CLI bundles in a child process instead.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { extname, join } from 'node:path'

export interface ClientFile {
  /** The URL path the file is served at. */
  path: string
  contentType: string
  body: string
  /** Content-hashed names never change content: they may be cached for good. */
  immutable: boolean
}

// Everything the client is made of is text; a binary asset would need another encoding.
const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.webmanifest': 'application/manifest+json',
}

export const ASSET_PREFIX = '/assets/'

export function bundleClient(): ClientFile[] {
  const outdir = mkdtempSync(join(tmpdir(), 'chat-ui-'))
  try {
    const build = Bun.spawnSync(
      [process.execPath, 'build', join(import.meta.dir, 'index.html'), '--outdir', outdir, '--minify', '--public-path', ASSET_PREFIX],
      { stdout: 'pipe', stderr: 'pipe' },
    )
    if (!build.success) throw new Error(`bundling the web client failed:\n${build.stderr.toString()}${build.stdout.toString()}`)
    return readdirSync(outdir).map((name) => {
      const contentType = CONTENT_TYPES[extname(name)]
      if (!contentType) throw new Error(`the web client bundle has ${name}, which is not a text file type this server knows`)
      const page = name === 'index.html'
      return { path: page ? '/' : ASSET_PREFIX + name, contentType, body: readFileSync(join(outdir, name), 'utf8'), immutable: !page }
    })
  } finally {
    rmSync(outdir, { recursive: true, force: true })
  }
}
