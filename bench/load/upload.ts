/**
 * Upload: concurrent uploads of large files (ours only: the floor has no files). The server
 * streams each to disk, so its memory must not grow with the bytes in flight: the figure is
 * the growth of its RSS, sampled while the uploads run, over its RSS before them.
 */
import type { UploadPlan } from '../plan'
import { memoryKiB, startMeter } from '../proc-stats'
import type { Identity } from '../targets/target'
import { progress, type Figures, type LoadContext } from './job'

const SAMPLE_EVERY_MS = 20
/** One small upload first, so first-use costs (the parser's code, the folders) are not billed. */
const WARM_UP_BYTES = 1024 * 1024
const MiB = 1024 * 1024

/** Our upload route (multipart, one part named file); the size the server says it stored. */
async function upload(base: string, user: Identity, roomId: number, file: File): Promise<number | null> {
  const form = new FormData()
  form.append('file', file)
  const response = await fetch(`${base}/api/chat/rooms/${roomId}/attachments`, { method: 'POST', headers: user.headers, body: form })
  const body = (await response.json().catch(() => null)) as { size?: number } | null
  return response.status === 201 ? (body?.size ?? null) : null
}

export async function uploads({ target, base, pid }: LoadContext, plan: UploadPlan): Promise<Figures> {
  const [user] = await target.users(base, 1)
  const roomId = await target.createRoom(base, user!, [])
  // One buffer of random bytes (nothing compresses or dedupes it) behind every upload.
  const bytes = new Uint8Array(plan.bytes)
  for (let at = 0; at < bytes.length; at += 65_536) crypto.getRandomValues(bytes.subarray(at, Math.min(at + 65_536, bytes.length)))
  await upload(base, user!, roomId, new File([bytes.subarray(0, WARM_UP_BYTES)], 'warm-up.bin'))
  await Bun.sleep(500)

  const before = memoryKiB(pid).rss
  let peak = before
  const sampler = setInterval(() => (peak = Math.max(peak, memoryKiB(pid).rss)), SAMPLE_EVERY_MS)
  progress(`${plan.uploads} uploads of ${plan.bytes / MiB} MiB, ${plan.uploads} at once`)
  const meter = startMeter(pid)
  const started = performance.now()
  const sizes = await Promise.all(Array.from({ length: plan.uploads }, (_, i) => upload(base, user!, roomId, new File([bytes], `upload-${i}.bin`))))
  const seconds = (performance.now() - started) / 1000
  const { serverCpuUs, serverCpuPercent } = meter()
  clearInterval(sampler)
  peak = Math.max(peak, memoryKiB(pid).rss)

  const stored = sizes.filter((size) => size === plan.bytes).length
  const mib = (stored * plan.bytes) / MiB
  return {
    mibPerSecond: mib / seconds,
    rssGrowthMiB: (peak - before) / 1024,
    cpuPerMiBMs: mib > 0 ? serverCpuUs / 1000 / mib : Number.NaN,
    failedUploads: plan.uploads - stored,
    serverCpuPercent,
  }
}
