import type { Outcome } from './queue'

/** The largest answer body read from an endpoint; the rest is cut off unread. */
export const MAX_ANSWER_BYTES = 64 * 1024

/**
 * The outcome of a non-2xx answer: 408, 429 and 5xx may pass (another try later); any other
 * status is the endpoint's final word.
 */
export function failedAnswer(status: number): Outcome {
  if (status === 408 || status === 429 || status >= 500) return { result: 'retry', reason: `HTTP ${status}` }
  return { result: 'rejected', reason: `HTTP ${status}` }
}

/** A fetch that failed without an answer (refused, reset, timed out): worth another try. */
export const noAnswer = (error: unknown): Outcome & { result: 'retry' } => ({
  result: 'retry',
  reason: (error as Error)?.name === 'TimeoutError' || (error as Error)?.name === 'AbortError' ? 'no answer in time' : String(error),
})

/** Reads at most MAX_ANSWER_BYTES of a body, then stops reading (the rest is never buffered). */
export async function readCapped(response: Response): Promise<Uint8Array> {
  if (!response.body) return new Uint8Array()
  const chunks: Uint8Array[] = []
  let size = 0
  const reader = response.body.getReader()
  try {
    while (size < MAX_ANSWER_BYTES) {
      const { value, done } = await reader.read()
      if (done) break
      const room = MAX_ANSWER_BYTES - size
      chunks.push(value.length > room ? value.subarray(0, room) : value)
      size += Math.min(value.length, room)
    }
  } finally {
    await reader.cancel().catch(() => {})
  }
  return Buffer.concat(chunks)
}

/** An answer whose body does not matter: cancelled unread, which frees the connection. */
export const discard = (response: Response) => response.body?.cancel().catch(() => {})
