/**
 * One HTTP/1.1 request over a raw socket, for the bodies fetch cannot send: a Content-Length
 * that lies, chunks written by hand, an upload abandoned or held open half way.
 * Bun.connect rather than node:net: a write into a connection the server has closed does not
 * throw away the answer already received (node:net destroys the socket on EPIPE).
 */
import type { Socket } from 'bun'

export interface RawReply {
  status: number
  headers: Record<string, string>
  body: string
}

/** What goes after the request head: `open` once the head is written, `drain` whenever the socket takes more. */
export interface RawBody {
  open(socket: Socket, closed: () => boolean): void | Promise<void>
  drain?(socket: Socket, closed: () => boolean): void
}

/** Writes `head`, then the body as `body` writes it; resolves with the answer once the server closes the connection. */
export function rawExchange(port: number, head: string, body: RawBody): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const received: Buffer[] = []
    let closed = false
    const isClosed = () => closed
    Bun.connect({
      hostname: '127.0.0.1',
      port,
      socket: {
        open(socket) {
          socket.write(head)
          void body.open(socket, isClosed)
        },
        drain: (socket) => body.drain?.(socket, isClosed),
        data: (_socket, data) => void received.push(Buffer.from(data)),
        // The server closing while we still write shows up here (EPIPE, ECONNRESET): expected.
        error() {},
        close() {
          closed = true
          resolve(parseReply(Buffer.concat(received).toString()))
        },
      },
    }).catch(reject)
  })
}

function parseReply(text: string): RawReply {
  const [top = '', ...rest] = text.split('\r\n\r\n')
  const [statusLine = '', ...lines] = top.split('\r\n')
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]))
  return { status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') }
}
