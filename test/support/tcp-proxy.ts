/**
 * A TCP forwarder in front of a real server, which a test can cut: `blackHole()` holds every
 * byte in both directions (as a partition does: nothing answers, nothing fails, TCP would keep
 * retransmitting), `heal()` lets the held bytes through and forwards again, `refuse()` closes
 * every connection and refuses new ones.
 */
import type { Socket, TCPSocketListener } from 'bun'

export interface TcpProxy {
  port: number
  blackHole(): void
  heal(): void
  refuse(): void
  close(): void
}

/** Each socket's bytes held for the socket on the other side (`other`). */
type Side = { held: Uint8Array[]; other: Socket<Side> | null }

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  let mode: 'forward' | 'hole' | 'refuse' = 'forward'
  const sockets = new Set<Socket<Side>>()

  const send = (to: Socket<Side> | null, data: Uint8Array, queue: Uint8Array[]) => {
    if (mode !== 'forward' || to === null) queue.push(data)
    else to.write(data)
  }
  const flush = (socket: Socket<Side>) => {
    const { other, held } = socket.data
    if (!other) return
    for (const chunk of held.splice(0)) other.write(chunk)
  }

  const listener: TCPSocketListener<Side> = Bun.listen<Side>({
    hostname: '127.0.0.1',
    port: 0,
    socket: {
      async open(client) {
        if (mode === 'refuse') return void client.end()
        client.data = { held: [], other: null }
        sockets.add(client)
        const upstream = await Bun.connect<Side>({
          hostname: target.host,
          port: target.port,
          socket: {
            open(socket) {
              socket.data = { held: [], other: client }
              sockets.add(socket)
            },
            data(socket, data) {
              send(client, new Uint8Array(data), socket.data.held)
            },
            close() {
              client.end()
            },
            error() {
              client.end()
            },
          },
        }).catch(() => null)
        if (!upstream) return void client.end()
        client.data.other = upstream
        if (mode === 'forward') flush(client)
      },
      data(client, data) {
        send(client.data.other, new Uint8Array(data), client.data.held)
      },
      close(client) {
        client.data?.other?.end()
        sockets.delete(client)
      },
      error(client) {
        client.data?.other?.end()
      },
    },
  })

  return {
    port: listener.port,
    blackHole: () => void (mode = 'hole'),
    heal() {
      mode = 'forward'
      for (const socket of sockets) flush(socket)
    },
    refuse() {
      mode = 'refuse'
      for (const socket of sockets) socket.end()
      sockets.clear()
    },
    close() {
      for (const socket of sockets) socket.end()
      listener.stop(true)
    },
  }
}
