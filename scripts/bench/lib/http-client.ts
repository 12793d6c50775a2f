import { createHash } from 'node:crypto'
import { Agent, request as httpRequest } from 'node:http'

/** A finished HTTP exchange with its body as text. */
export interface HttpAnswer {
  status: number
  body: string
}

/** What a streamed download saw: bytes, their SHA-256, and the status. */
export interface StreamAnswer {
  status: number
  bytes: number
  sha256: string
}

/** A minimal keep-alive client for one server (node:http, so the load generator stays cheap). */
export class BenchClient {
  readonly agent: Agent
  readonly #port: number
  readonly #key: string

  constructor (port: number, key: string, maxSockets: number) {
    this.#port = port
    this.#key = key
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets })
  }

  /** Sends a request (JSON body when given) and reads the whole answer. */
  send (method: string, path: string, json?: unknown): Promise<HttpAnswer> {
    const payload = json === undefined ? undefined : JSON.stringify(json)
    const headers: Record<string, string | number> = { 'x-api-key': this.#key }
    if (payload !== undefined) {
      headers['content-type'] = 'application/json'
      headers['content-length'] = Buffer.byteLength(payload)
    }
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: this.#port, method, path, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }))
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end(payload)
    })
  }

  /** Sends a request and parses a JSON answer; throws on a status other than `expected`. */
  async json<T> (method: string, path: string, body: unknown, expected: readonly number[]): Promise<T> {
    const answer = await this.send(method, path, body)
    if (!expected.includes(answer.status)) throw new Error(`${method} ${path}: HTTP ${answer.status} ${answer.body.slice(0, 200)}`)
    return JSON.parse(answer.body) as T
  }

  /** Streams a GET body through SHA-256 chunk by chunk, never holding more than one chunk. */
  hashStream (path: string): Promise<StreamAnswer> {
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port: this.#port, path, headers: { 'x-api-key': this.#key }, agent: this.agent }, (res) => {
        const hash = createHash('sha256')
        let bytes = 0
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length
          hash.update(chunk)
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, sha256: hash.digest('hex') }))
        res.on('error', reject)
      })
      req.on('error', reject)
      req.end()
    })
  }

  close (): void {
    this.agent.destroy()
  }
}

/** GET without keep-alive or key: true when the answer is 200 (used to poll /health during start-up). */
export function healthOk (port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/health', agent: false }, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode === 200))
    })
    req.on('error', () => resolve(false))
    req.end()
  })
}
