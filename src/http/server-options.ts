import type { Config } from '../config'

/**
 * How the server listens: the one place for Bun.serve's options, used by main.ts and by the
 * in-process test server alike, so the tests listen exactly as the binary does.
 */
export function serverOptions(config: Pick<Config, 'port' | 'host'>) {
  return {
    port: config.port,
    hostname: config.host,
    // A second process on the same port must fail, not silently share the traffic.
    reusePort: false,
    idleTimeout: 30,
    // Off at Bun's level on purpose: Bun answers a declared length past its limit itself, with
    // an empty 413 and no JSON, before any hook runs. The app enforces its limits per route
    // instead (body-limit.ts): a declared length is refused before a byte of the body is read,
    // a counted one as it arrives, each with the contract's JSON 413 and `Connection: close`.
    // Nothing buffers a body nobody reads: Bun discards it as it arrives (measured: a 1 GB body
    // sent to a route that ignores it left the process at ~65 MB RSS).
    maxRequestBodySize: Number.POSITIVE_INFINITY,
  }
}
