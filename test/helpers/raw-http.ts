import { connect } from 'node:net'

/** What came back on a raw connection: the status (0 when none), headers, body text, and whether the server closed it. */
export interface RawAnswer {
  status: number
  headers: Record<string, string>
  body: string
  closedByServer: boolean
}

/** Parses the first final HTTP/1.1 answer in `text` (Content-Length or chunked body), after any 100 Continue. */
export function parseAnswer (text: string): Omit<RawAnswer, 'closedByServer'> {
  while (/^HTTP\/1\.1 1(?!01)\d\d [^\r]*\r\n\r\n/.test(text)) text = text.slice(text.indexOf('\r\n\r\n') + 4)
  const end = text.indexOf('\r\n\r\n')
  if (end < 0) return { status: 0, headers: {}, body: '' }
  const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n')
  const headers: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim()
  }
  let body = text.slice(end + 4)
  if (headers['transfer-encoding'] === 'chunked') {
    let decoded = ''
    for (;;) {
      const lineEnd = body.indexOf('\r\n')
      const size = parseInt(body.slice(0, lineEnd), 16)
      if (!(size > 0)) break
      decoded += body.slice(lineEnd + 2, lineEnd + 2 + size)
      body = body.slice(lineEnd + 2 + size + 2)
    }
    body = decoded
  } else if (headers['content-length'] !== undefined) {
    body = body.slice(0, Number(headers['content-length']))
  }
  return { status: Number(statusLine.split(' ')[1] ?? 0), headers, body }
}

/** True when `text` holds a whole answer: its head, and its body unless it has none (HEAD, 101, 204, 304). */
function answerComplete (text: string, noBody: boolean): boolean {
  const answer = parseAnswer(text)
  if (answer.status === 0) return false
  if (noBody || [101, 204, 304].includes(answer.status)) return true
  if (answer.headers['transfer-encoding'] === 'chunked') return text.endsWith('0\r\n\r\n')
  return answer.body.length >= Number(answer.headers['content-length'] ?? Infinity)
}

/**
 * Writes `request` as is on a new connection to `url` and collects what comes back until the
 * server closes the connection, the first answer is complete (when `untilAnswer`), or `timeoutMs`.
 */
export function rawRequest (url: string, request: string | Buffer, options: { timeoutMs?: number, untilAnswer?: boolean, noBody?: boolean } = {}): Promise<RawAnswer> {
  const { port, hostname } = new URL(url)
  return new Promise((resolve) => {
    let received = ''
    let done = false
    const socket = connect(Number(port), hostname, () => socket.write(request))
    const finish = (closedByServer: boolean): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      resolve({ ...parseAnswer(received), closedByServer })
    }
    const timer = setTimeout(() => finish(false), options.timeoutMs ?? 10_000)
    socket.on('data', (chunk) => {
      received += chunk.toString('latin1')
      if (options.untilAnswer === true && answerComplete(received, options.noBody === true)) finish(false)
    })
    socket.on('error', () => finish(true))
    socket.on('close', () => finish(true))
  })
}
