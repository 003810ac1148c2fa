/**
 * Runs the API suites against a compiled binary instead of the source: every test file that
 * starts a server (startServer, spawnServer, startCluster) runs with CHAT_SERVER_BIN set, so a
 * new API test file is included without being listed here. Files that start no server (store,
 * bus) would only repeat the in-process run and are left out.
 * Usage: bun scripts/test-binary.ts [dist/chat-server]   (`bun run test:binary` builds first)
 */
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'

const ROOT = resolve(import.meta.dir, '..')
const STARTS_A_SERVER = /\b(startServer|spawnServer|startCluster|startHostServer|startServerAndBrowser)\(/

const binary = resolve(process.argv[2] ?? 'dist/chat-server')
if (!existsSync(binary)) {
  console.error(`test-binary: no binary at ${binary}; build it first (bun run build)`)
  process.exit(1)
}

const files: string[] = []
for await (const file of new Bun.Glob('test/**/*.test.ts').scan({ cwd: ROOT })) {
  if (STARTS_A_SERVER.test(await Bun.file(resolve(ROOT, file)).text())) files.push(`./${file}`)
}
files.sort()
if (files.length === 0) {
  console.error('test-binary: no test file starts a server')
  process.exit(1)
}
console.log(`test-binary: ${files.length} files against ${binary}`)

const run = Bun.spawn([process.execPath, 'test', '--timeout', '60000', ...files], {
  cwd: ROOT,
  env: { ...process.env, CHAT_SERVER_BIN: binary },
  stdio: ['inherit', 'inherit', 'inherit'],
})
process.exit(await run.exited)
