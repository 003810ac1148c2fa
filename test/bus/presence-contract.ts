import { afterEach, beforeEach, describe, expect, it } from 'bun:test'
import type { Presence } from '../../src/bus/bus'

/** What every Presence keeps on one instance (src/bus/bus.ts); across instances is each implementation's. */
export function runPresenceContract(name: string, makePresence: () => Promise<Presence>) {
  describe(`Presence contract: ${name}`, () => {
    let presence: Presence
    beforeEach(async () => {
      presence = await makePresence()
    })
    afterEach(() => presence.close())

    it('counts streams per user: online until the last one closes', async () => {
      presence.connect(1)
      presence.connect(1)
      presence.connect(2)
      expect(await presence.online([1, 2, 3])).toEqual(new Set([1, 2]))
      presence.disconnect(1)
      expect(await presence.online([1, 2, 3])).toEqual(new Set([1, 2]))
      presence.disconnect(1)
      expect(await presence.online([1, 2, 3])).toEqual(new Set([2]))
    })

    it('answers only for the users asked', async () => {
      presence.connect(1)
      presence.connect(2)
      expect(await presence.online([2])).toEqual(new Set([2]))
      expect(await presence.online([])).toEqual(new Set())
    })

    it('shrugs off a disconnect without a connect', async () => {
      expect(() => presence.disconnect(5)).not.toThrow()
      presence.connect(5)
      expect(await presence.online([5])).toEqual(new Set([5]))
    })
  })
}
