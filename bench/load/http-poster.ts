/**
 * One keep-alive HTTP/1.1 connection on a raw socket, one request at a time. On this kind of
 * machine fetch costs the load generator more per request than the floor spends answering
 * it, so an ingest driven by fetch would measure the client; this costs one write and one
 * read per request.
 */

export interface Poster {
  /** Sends the POST and resolves with the response's status once its body has arrived. */
  post(path: string, body: string): Promise<number>
  /** The same for any method (PATCH, PUT, DELETE); no body when `body` is undefined. */
  send(method: string, path: string, body?: string): Promise<number>
  close(): void
}

/** Where the response ends: after Content-Length bytes of body, or after the last chunk. */
function complete(response: string): boolean {
  const end = response.indexOf('\r\n\r\n')
  if (end < 0) return false
  const length = response.slice(0, end).match(/\r\ncontent-length: *(\d+)/i)
  if (length) return response.length - end - 4 >= Number(length[1])
  return response.endsWith('\r\n0\r\n\r\n')
}

export async function connectPoster(port: number, headers: Record<string, string>): Promise<Poster> {
  const fixed = [
    `Host: 127.0.0.1:${port}`,
    'Content-Type: application/json',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ].join('\r\n')
  let pending: { resolve: (status: number) => void; reject: (error: Error) => void } | undefined
  let response = ''

  const socket = await Bun.connect({
    hostname: '127.0.0.1',
    port,
    socket: {
      data(_socket, bytes) {
        response += bytes.toString('latin1')
        if (!pending || !complete(response)) return
        const status = Number(response.slice(9, 12))
        response = ''
        const done = pending
        pending = undefined
        done.resolve(status)
      },
      close() {
        pending?.reject(new Error('connection closed'))
        pending = undefined
      },
      error(_socket, error) {
        pending?.reject(error)
        pending = undefined
      },
    },
  })

  const send = (method: string, path: string, body = '') => {
    const { promise, resolve, reject } = Promise.withResolvers<number>()
    pending = { resolve, reject }
    const request = `${method} ${path} HTTP/1.1\r\n${fixed}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
    // A request of a few hundred bytes on an idle connection always fits the socket buffer.
    if (socket.write(request) < Buffer.byteLength(request)) reject(new Error('request only partly written'))
    return promise
  }
  return {
    post: (path, body) => send('POST', path, body),
    send,
    close: () => socket.end(),
  }
}

/**
 * Posts that may overlap, each on an idle connection of the pool (opened up front; more are
 * opened when all are busy). The request is written before post() returns, so a send time
 * taken just before the call is when the bytes left.
 */
export async function connectPosterPool(port: number, headers: Record<string, string>, size: number): Promise<Poster> {
  const idle = await Promise.all(Array.from({ length: size }, () => connectPoster(port, headers)))
  const all = [...idle]
  const send = async (method: string, path: string, body?: string) => {
    const poster = idle.pop() ?? (await connectPoster(port, headers))
    if (!all.includes(poster)) all.push(poster)
    const status = await poster.send(method, path, body)
    idle.push(poster) // a failed connection threw above and is not reused
    return status
  }
  return {
    post: (path, body) => send('POST', path, body),
    send,
    close() {
      for (const poster of all) poster.close()
    },
  }
}
