/** Builds a compiled server only when its sources are newer than the binary. */
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

/** The newest modification time among these files and everything under these folders. */
function newestMtime(paths: string[]): number {
  let newest = 0
  for (const path of paths) {
    if (!existsSync(path)) continue
    const stat = statSync(path)
    if (stat.isDirectory()) newest = Math.max(newest, newestMtime(readdirSync(path).map(name => join(path, name))))
    else newest = Math.max(newest, stat.mtimeMs)
  }
  return newest
}

/** Returns true (so a caller can remember that it is built) or throws. */
export function buildIfStale(output: string, sources: string[], command: string[], cwd: string): true {
  if (existsSync(output) && statSync(output).mtimeMs >= newestMtime(sources)) return true
  console.error(`building ${output}: ${command.join(' ')}`)
  const build = Bun.spawnSync(command, { cwd, stdout: 'inherit', stderr: 'inherit' })
  if (build.exitCode !== 0) throw new Error(`build failed (exit ${build.exitCode}): ${command.join(' ')}`)
  return true
}
