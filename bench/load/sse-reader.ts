/**
 * A lean Server-Sent Events client on a raw TCP socket. Bun's fetch allows 256 requests in
 * flight and costs far more per event than the servers under test, so thousands of streams
 * need this: it writes a plain HTTP/1.1 GET, undoes the chunked framing itself and hands each
 * event of one type (`message` unless told) to the caller as its id and data line, as text,
 * without parsing the JSON.
 *
 * Bytes are read as latin1 so string offsets equal byte offsets (chunk sizes count bytes);
 * the fields the bench looks at are ASCII.
 */

/** `receivedAt` is performance.now() when the socket's bytes arrived. */
export type OnMessage = (id: number, data: string, receivedAt: number) => void

export interface SseOptions {
  port: number
  path: string
  headers?: Record<string, string>
  onMessage?: OnMessage
  /** The event type handed to onMessage; default `message`. */
  event?: string
}

export interface SseStream {
  /** Resolves when the connection closes, for whatever reason. */
  readonly closed: Promise<void>
  close(): void
}

/** Resolves once the response headers said 200; rejects with the status line otherwise. */
export function openSse(options: SseOptions): Promise<SseStream> {
  const { promise: opened, resolve: open, reject: fail } = Promise.withResolvers<SseStream>()
  const { promise: closed, resolve: close } = Promise.withResolvers<void>()
  const parser = createParser(options.onMessage, options.event ?? 'message')
  let head = ''
  let body = false

  const request = [
    `GET ${options.path} HTTP/1.1`,
    `Host: 127.0.0.1:${options.port}`,
    'Accept: text/event-stream',
    ...Object.entries(options.headers ?? {}).map(([name, value]) => `${name}: ${value}`),
    '',
    '',
  ].join('\r\n')

  Bun.connect({
    hostname: '127.0.0.1',
    port: options.port,
    socket: {
      open(socket) {
        socket.write(request)
      },
      data(socket, bytes) {
        const receivedAt = performance.now()
        const text = bytes.toString('latin1')
        if (body) {
          parser.feed(text, receivedAt)
          return
        }
        head += text
        const end = head.indexOf('\r\n\r\n')
        if (end < 0) return
        const status = head.slice(0, head.indexOf('\r\n'))
        if (!status.startsWith('HTTP/1.1 200')) {
          fail(new Error(`${options.path}: ${status} ${head.slice(end + 4, end + 204)}`))
          socket.end()
          return
        }
        body = true
        parser.chunked = /\r\ntransfer-encoding: *chunked/i.test(head.slice(0, end + 2))
        open({ closed, close: () => socket.end() })
        parser.feed(head.slice(end + 4), receivedAt)
      },
      close() {
        fail(new Error(`${options.path}: closed before the response headers`))
        close()
      },
      error(_socket, error) {
        fail(error)
      },
      connectError(_socket, error) {
        fail(error)
        close()
      },
    },
  }).catch(error => {
    fail(error)
    close()
  })
  return opened
}

function createParser(onMessage: OnMessage | undefined, wanted: string) {
  let framing = '' // an incomplete chunk-size line
  let due = 0 // payload bytes still to come in the current chunk
  let skip = 0 // bytes of the CRLF after a chunk still to come
  let events = '' // payload not yet split into events

  function dechunk(text: string): void {
    if (framing) {
      text = framing + text
      framing = ''
    }
    let i = 0
    while (i < text.length) {
      if (skip) {
        const n = Math.min(skip, text.length - i)
        skip -= n
        i += n
      } else if (due) {
        const n = Math.min(due, text.length - i)
        events += text.slice(i, i + n)
        due -= n
        i += n
        if (!due) skip = 2
      } else {
        const eol = text.indexOf('\r\n', i)
        if (eol < 0) {
          framing = text.slice(i)
          return
        }
        due = parseInt(text.slice(i, eol), 16)
        i = eol + 2
        if (!due) skip = 2 // the last chunk: nothing more will come
      }
    }
  }

  /** One event block [start, end): fields at line starts; no `event:` line means `message`. */
  function dispatch(start: number, end: number, receivedAt: number): void {
    let type = 'message'
    let id = 0
    let data: string | undefined
    for (let line = start; line < end; ) {
      let eol = events.indexOf('\n', line)
      if (eol < 0 || eol > end) eol = end
      if (events.startsWith('data: ', line)) data = events.slice(line + 6, eol)
      else if (events.startsWith('id: ', line)) id = Number(events.slice(line + 4, eol))
      else if (events.startsWith('event: ', line)) type = events.slice(line + 7, eol)
      line = eol + 1
    }
    if (type === wanted && data !== undefined) onMessage!(id, data, receivedAt)
  }

  return {
    chunked: false,
    feed(text: string, receivedAt: number): void {
      if (this.chunked) dechunk(text)
      else events += text
      if (!onMessage) {
        events = ''
        return
      }
      let start = 0
      for (let end = events.indexOf('\n\n'); end >= 0; end = events.indexOf('\n\n', start)) {
        dispatch(start, end, receivedAt)
        start = end + 2
      }
      if (start) events = events.slice(start)
    },
  }
}
