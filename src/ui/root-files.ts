/**
 * The files served at the origin's root: the service worker (sw.ts, bundled into one script the
 * way bundle.ts bundles the page) and the app icons the manifest names.
 *
 * Macros of src/modules/web like bundleClient: they run while Bun transpiles that module, so
 * the binary carries their answers. The worker cannot be one of the page's content-hashed assets: a
 * service worker's scope is the folder of its URL, and its URL must stay the same from one
 * release to the next for the browser to update it, so it is served as `/sw.js`.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

export function bundleWorker(): string {
  const build = Bun.spawnSync([process.execPath, 'build', join(import.meta.dir, 'sw.ts'), '--minify', '--target', 'browser'], {
    stdout: 'pipe',
    stderr: 'pipe',
  })
  if (!build.success) throw new Error(`bundling the service worker failed:\n${build.stderr.toString()}`)
  return build.stdout.toString()
}

/** An icon of app-icons/ (SVG: one drawing for every size the installed app needs). */
export function appIcon(name: 'icon.svg' | 'icon-maskable.svg'): string {
  return readFileSync(join(import.meta.dir, 'app-icons', name), 'utf8')
}
