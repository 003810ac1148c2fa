/** Summaries of latency samples (milliseconds). */

export interface Percentiles {
  p50: number
  p95: number
  p99: number
  max: number
}

/** Nearest-rank percentiles; sorts `samples` in place. NaN for no samples. */
export function percentiles(samples: Float64Array): Percentiles {
  samples.sort()
  const at = (q: number) => (samples.length ? samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)]! : NaN)
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: at(1) }
}

/** A growable list of samples, so a timed loop need not know its count in advance. */
export class Samples {
  private data = new Float64Array(1024)
  length = 0

  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Float64Array(this.data.length * 2)
      grown.set(this.data)
      this.data = grown
    }
    this.data[this.length++] = value
  }

  percentiles(): Percentiles {
    return percentiles(this.data.subarray(0, this.length))
  }
}

/**
 * How many times each sequence number arrived at one reader: the bench's exactly-once check.
 * Grows as needed, one byte per number (counts saturate at 255, which is still "duplicate").
 */
export class Tally {
  private counts = new Uint8Array(1024)

  add(seq: number): void {
    if (seq >= this.counts.length) {
      const grown = new Uint8Array(Math.max(seq + 1, this.counts.length * 2))
      grown.set(this.counts)
      this.counts = grown
    }
    const count = this.counts[seq]!
    if (count < 255) this.counts[seq] = count + 1
  }

  has(seq: number): boolean {
    return (this.counts[seq] ?? 0) > 0
  }

  /** Over the numbers `expected` says should have come exactly once. */
  check(expected: (seq: number) => boolean, upTo: number): { missing: number; duplicate: number } {
    let missing = 0
    let duplicate = 0
    for (let seq = 0; seq < upTo; seq++) {
      const count = this.counts[seq] ?? 0
      if (count === 0 && expected(seq)) missing++
      if (count > 1) duplicate += count - 1
    }
    return { missing, duplicate }
  }
}
