/**
 * Waits for a condition that has no event to await (a bus's health, what a Redis server
 * reports, another process's writes), checking it every few milliseconds up to a deadline.
 * Where there is an event, await the event instead.
 */
export async function waitUntil(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 3_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`)
    await Bun.sleep(5)
  }
}
