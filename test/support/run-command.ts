/** Runs a command to completion; throws with its output when it fails, unless allowed to. */
export async function run(argv: string[], options: { allowFailure?: boolean; stdin?: string } = {}): Promise<{ code: number; output: string }> {
  const stdin = options.stdin === undefined ? 'ignore' : new TextEncoder().encode(options.stdin)
  const proc = Bun.spawn(argv, { stdin, stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited])
  const output = (stdout + stderr).trim()
  if (code !== 0 && !options.allowFailure) throw new Error(`${argv.join(' ')} exited ${code}: ${output}`)
  return { code, output }
}
