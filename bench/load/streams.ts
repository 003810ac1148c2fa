/** Helpers every load scenario shares: the bench message format and opening many streams. */
import { openSse, type OnMessage, type SseStream } from './sse-reader'

/**
 * A bench message says which it is and when it was sent: performance.now() of the sender, in
 * whole microseconds so that reading it back is integer arithmetic.
 */
export const benchContent = (seq: number, sentAt: number) => `b${seq}:${Math.round(sentAt * 1000)}`

const MARK = '"content":"b'

/** The decimal integer at `from` up to the first non-digit. */
function integerAt(text: string, from: number): { value: number; end: number } {
  let value = 0
  let at = from
  for (let digit = text.charCodeAt(at) - 48; digit >= 0 && digit <= 9; digit = text.charCodeAt(++at) - 48) {
    value = value * 10 + digit
  }
  return { value, end: at }
}

/**
 * The seq and send time (ms) of a bench message from an event's data line, without parsing
 * the JSON; seq is -1 for other messages (JOIN, seeded). Fills one reused object: this runs
 * for every delivery.
 */
export function readBenchContent(data: string, into: { seq: number; sentAt: number }): void {
  const at = data.indexOf(MARK)
  into.seq = -1
  if (at < 0) return
  const seq = integerAt(data, at + MARK.length)
  into.seq = seq.value
  into.sentAt = integerAt(data, seq.end + 1).value / 1000
}

/**
 * A bench reaction: `<seq>:<send time in µs>`, within the 16 code points an emoji may have
 * (seqs up to 9,999 sent in a load process younger than 16 minutes).
 */
export function benchReaction(seq: number, sentAt: number): string {
  const emoji = `${seq}:${Math.round(sentAt * 1000)}`
  if (emoji.length > 16) throw new Error(`bench reaction ${emoji} is longer than an emoji may be`)
  return emoji
}

const REACTION_MARK = '"emoji":"'

/**
 * The change a `message-updated` event carries: an edit's content or the newest reaction
 * (reactions keep the order of first use, so it is the last one), whichever has the larger seq.
 */
export function readBenchUpdate(data: string, into: { seq: number; sentAt: number }): void {
  readBenchContent(data, into)
  const at = data.lastIndexOf(REACTION_MARK)
  if (at < 0) return
  const seq = integerAt(data, at + REACTION_MARK.length)
  if (seq.value <= into.seq) return
  into.seq = seq.value
  into.sentAt = integerAt(data, seq.end + 1).value / 1000
}

/** Opens `count` streams, at most `concurrency` connecting at once; all or none. */
export async function openStreams(
  count: number,
  concurrency: number,
  stream: (i: number) => { port: number; path: string; headers: Record<string, string>; onMessage?: OnMessage; event?: string },
): Promise<SseStream[]> {
  const streams: SseStream[] = []
  let next = 0
  let failed = false
  const opener = async () => {
    while (next < count && !failed) {
      try {
        streams.push(await openSse(stream(next++)))
      } catch (error) {
        failed = true
        throw error
      }
    }
  }
  const openers = await Promise.allSettled(Array.from({ length: Math.min(concurrency, count) }, opener))
  const failure = openers.find(result => result.status === 'rejected')
  if (failure) {
    closeStreams(streams)
    throw failure.reason
  }
  return streams
}

export function closeStreams(streams: SseStream[]): void {
  for (const stream of streams) stream.close()
}
