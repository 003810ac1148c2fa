/**
 * Group commit: writes requested during one turn of the event loop are run together, in
 * request order, inside one transaction, and each caller's promise settles only after that
 * transaction committed. A commit costs the same for one write or fifty, so under concurrent
 * load this multiplies write throughput, and a settled promise still means "stored".
 *
 * `runBatch` must run the whole batch in one transaction and report each item's own outcome
 * (one item failing, e.g. a constraint, must not fail the others); if it throws, the
 * transaction did not commit and every item fails with that error.
 */
export type Outcome<O> = { ok: O } | { error: unknown }

export function createGroupCommit<I, O>(runBatch: (items: I[]) => Promise<Outcome<O>[]>) {
  let queue: { item: I; resolve: (value: O) => void; reject: (error: unknown) => void }[] = []
  let scheduled = false

  async function flush() {
    scheduled = false
    const batch = queue
    queue = []
    try {
      const outcomes = await runBatch(batch.map((entry) => entry.item))
      batch.forEach((entry, i) => {
        const outcome = outcomes[i]!
        if ('ok' in outcome) entry.resolve(outcome.ok)
        else entry.reject(outcome.error)
      })
    } catch (error) {
      for (const entry of batch) entry.reject(error)
    }
  }

  return (item: I): Promise<O> =>
    new Promise<O>((resolve, reject) => {
      queue.push({ item, resolve, reject })
      if (scheduled) return
      scheduled = true
      setImmediate(flush)
    })
}
