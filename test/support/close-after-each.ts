import { afterEach } from 'bun:test'

export interface Closable {
  close(): unknown
}

/**
 * Everything a test opens, closed after it whatever happened: returns `track`, which registers
 * a thing and hands it back.
 */
export function closeAfterEach(): <T extends Closable>(thing: T) => T {
  const opened: Closable[] = []
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((thing) => thing.close()))
  })
  return (thing) => {
    opened.push(thing)
    return thing
  }
}
