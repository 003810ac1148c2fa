import { createMemoryBus, createMemoryPresence } from '../../src/bus/memory'
import { runBusContract } from './contract'
import { runPresenceContract } from './presence-contract'

runBusContract(
  'memory',
  async () => {
    const bus = createMemoryBus()
    return { a: bus, b: bus, cleanup: () => bus.close() }
  },
  { crossInstance: false },
)

runPresenceContract('memory', async () => createMemoryPresence())
