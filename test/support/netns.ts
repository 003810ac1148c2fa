/**
 * Test hosts made of Linux network namespaces (root only): one bridge in the test's own
 * namespace carries a small subnet; its first address is the "service host" (where the test
 * runs PostgreSQL and Redis, and from where it talks to every host), and each named host is a
 * namespace joined to the bridge by a veth pair, with an address of its own. Links are cut with
 * nftables rules inside a host's namespace, so the cut is that host's alone.
 *
 * Names carry the test process's PID, so two runs on one machine never share a namespace, a
 * bridge or a subnet; what a killed run left behind (its PID no longer alive) is removed by the
 * next one.
 */
import { existsSync } from 'node:fs'
import type { Subprocess } from 'bun'
import { run } from './run-command'

const PREFIX = 'chatns'
/**
 * 198.18.0.0/15 is reserved for testing network devices (RFC 2544): no real network of this
 * machine uses it, so a test subnet here cannot shadow one. 512 /24s; the PID picks one.
 */
const TEST_RANGE_SECOND_OCTETS = [18, 19]

export interface TestHost {
  name: string
  /** The namespace, for `ip netns exec`. */
  namespace: string
  address: string
}

export interface TestNetwork {
  /** The service host's address: reachable from every host and from the test itself. */
  serviceAddress: string
  hosts: Record<string, TestHost>
  /** Drops every packet between `host` and serviceAddress:port, both ways: a black hole. */
  cut(host: TestHost, port: number): Promise<LinkCut>
  /** Removes the hosts, the bridge and every cut; safe to call twice. */
  destroy(): Promise<void>
}

export interface LinkCut {
  /** Removes the rule: packets flow again. */
  heal(): Promise<void>
}

/**
 * Why namespaces cannot be made here, or null when they can. Under CI they must be, so there
 * this throws instead of letting the test skip: a green run that tested nothing is worse.
 */
export function namespacesUnavailable(): string | null {
  const reason =
    process.getuid?.() !== 0 ? 'not running as root (network namespaces need it)'
    : !Bun.which('ip') ? 'no `ip` command (Debian package iproute2)'
    : null
  if (reason && process.env.CI === 'true') throw new Error(`cannot build test hosts: ${reason}, and CI=true: the many-hosts test must run in CI`)
  return reason
}

/** A port nobody listens on at `host` right now (the kernel's choice, released at once). */
export async function freePortOn(host: string): Promise<number> {
  const probe = Bun.listen({ hostname: host, port: 0, socket: { data() {} } })
  const port = probe.port
  probe.stop(true)
  return port
}

/** The argv that runs `argv` inside `host`'s namespace. */
export const inHost = (host: TestHost, argv: string[]) => ['ip', 'netns', 'exec', host.namespace, ...argv]

/** Spawns a long-running process inside a host; `ip netns exec` execs, so its PID is the process's. */
export function spawnInHost(host: TestHost, argv: string[], options: { cwd?: string; env?: Record<string, string | undefined> }): Subprocess<'ignore', 'pipe', 'pipe'> {
  return Bun.spawn(inHost(host, argv), { cwd: options.cwd, env: options.env, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
}

export async function createTestNetwork(hostNames: string[]): Promise<TestNetwork> {
  if (!Bun.which('nft')) throw new Error('no `nft` command: install Debian\'s nftables (bash scripts/install-test-deps.sh)')
  await removeLeftovers()
  const pid = process.pid
  const subnet = await freeSubnet(pid)
  const bridge = `${PREFIX}${pid}`
  const created: { namespaces: string[]; links: string[] } = { namespaces: [], links: [] }
  const cuts = new Set<string>()
  let destroyed = false

  const network: TestNetwork = {
    serviceAddress: `${subnet}.1`,
    hosts: {},
    async cut(host, port) {
      // A table of its own per cut: healing deletes it whole, touching no other rule.
      const table = `${PREFIX}_cut_${pid}_${port}`
      const service = network.serviceAddress
      await run(inHost(host, ['nft', '-f', '-']), {
        stdin: `table inet ${table} {
          chain out { type filter hook output priority 0; policy accept; ip daddr ${service} tcp dport ${port} drop; }
          chain in { type filter hook input priority 0; policy accept; ip saddr ${service} tcp sport ${port} drop; }
        }\n`,
      })
      const key = `${host.namespace} ${table}`
      cuts.add(key)
      return {
        async heal() {
          if (!cuts.delete(key)) return
          await run(inHost(host, ['nft', 'delete', 'table', 'inet', table]))
        },
      }
    },
    async destroy() {
      if (destroyed) return
      destroyed = true
      // Deleting a namespace deletes its veth end, its peer and its nft tables with it.
      for (const namespace of created.namespaces) await run(['ip', 'netns', 'del', namespace], { allowFailure: true })
      for (const link of created.links) await run(['ip', 'link', 'del', link], { allowFailure: true })
    },
  }

  try {
    await run(['ip', 'link', 'add', bridge, 'type', 'bridge'])
    created.links.push(bridge)
    await run(['ip', 'addr', 'add', `${network.serviceAddress}/24`, 'dev', bridge])
    await run(['ip', 'link', 'set', bridge, 'up'])
    for (const [index, name] of hostNames.entries()) {
      const namespace = `${PREFIX}-${pid}-${name}`
      const outside = `${PREFIX.slice(0, 2)}${pid}${name}`.slice(0, 15)
      const address = `${subnet}.${index + 2}`
      await run(['ip', 'netns', 'add', namespace])
      created.namespaces.push(namespace)
      await run(['ip', 'link', 'add', outside, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', namespace])
      created.links.push(outside)
      await run(['ip', 'link', 'set', outside, 'master', bridge, 'up'])
      const host: TestHost = { name, namespace, address }
      await run(inHost(host, ['ip', 'addr', 'add', `${address}/24`, 'dev', 'eth0']))
      await run(inHost(host, ['ip', 'link', 'set', 'eth0', 'up']))
      await run(inHost(host, ['ip', 'link', 'set', 'lo', 'up']))
      network.hosts[name] = host
    }
  } catch (error) {
    await network.destroy()
    throw error
  }
  return network
}

/** A /24 of the test range that no address or route of this machine touches, as "a.b.c". */
async function freeSubnet(pid: number): Promise<string> {
  const { output } = await run(['ip', '-o', 'route', 'show', 'table', 'all'])
  const { output: addresses } = await run(['ip', '-o', 'addr', 'show'])
  const used = output + '\n' + addresses
  const slots = TEST_RANGE_SECOND_OCTETS.length * 256
  for (let step = 0; step < slots; step++) {
    const slot = (pid + step) % slots
    const subnet = `198.${TEST_RANGE_SECOND_OCTETS[slot >> 8]}.${slot & 255}`
    if (!used.includes(`${subnet}.`)) return subnet
  }
  throw new Error('no free /24 left in 198.18.0.0/15 for the test hosts')
}

/** Namespaces and bridges of earlier runs whose process is gone (killed before its cleanup). */
async function removeLeftovers() {
  const alive = (pid: string) => existsSync(`/proc/${pid}`)
  const { output: namespaces } = await run(['ip', 'netns', 'list'])
  for (const line of namespaces.split('\n')) {
    const match = new RegExp(`^(${PREFIX}-(\\d+)-\\S+)`).exec(line)
    if (match && !alive(match[2]!)) await run(['ip', 'netns', 'del', match[1]!], { allowFailure: true })
  }
  const { output: links } = await run(['ip', '-o', 'link', 'show', 'type', 'bridge'])
  for (const line of links.split('\n')) {
    const match = new RegExp(`^\\d+: (${PREFIX}(\\d+)):`).exec(line)
    if (match && !alive(match[2]!)) await run(['ip', 'link', 'del', match[1]!], { allowFailure: true })
  }
}
