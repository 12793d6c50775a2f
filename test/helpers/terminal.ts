import WebSocket from 'ws'
import { waitFor } from './wait.js'

/** A control frame from the server (NUL + JSON). */
export type Control = { type: string, [key: string]: any }

/** A terminal WebSocket client that records what it receives, as a test sees it. */
export class TerminalClient {
  readonly socket: WebSocket
  /** Every raw output frame, concatenated. */
  output = ''
  readonly controls: Control[] = []
  readonly closed: Promise<{ code: number, reason: string }>
  /** Set when the server refused the upgrade: its HTTP status, headers and JSON body. */
  refused?: { status: number, headers: Record<string, string | string[] | undefined>, body: any }

  private constructor (socket: WebSocket) {
    this.socket = socket
    socket.on('message', (data: Buffer) => {
      const text = data.toString('utf8')
      if (text.startsWith('\u0000')) this.controls.push(JSON.parse(text.slice(1)))
      else this.output += text
    })
    this.closed = new Promise((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })))
  }

  /** Opens a socket to `url` (ws://…); resolves once it is open or the upgrade was refused. */
  static async open (url: string, headers: Record<string, string> = {}): Promise<TerminalClient> {
    const socket = new WebSocket(url, { headers })
    const client = new TerminalClient(socket)
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve())
      socket.once('unexpected-response', (_request, response) => {
        let body = ''
        response.on('data', (chunk: Buffer) => { body += chunk.toString() })
        response.on('end', () => {
          let parsed: unknown = body
          try { parsed = JSON.parse(body) } catch { /* not JSON */ }
          client.refused = { status: response.statusCode ?? 0, headers: response.headers, body: parsed }
          resolve()
        })
      })
      socket.once('error', reject)
    })
    return client
  }

  send (message: unknown): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message))
  }

  /** Types `text` into the shell. */
  type (text: string): void {
    this.send({ type: 'input', data: text })
  }

  async waitForOutput (pattern: string | RegExp, timeoutMs = 10_000): Promise<string> {
    const matches = (): boolean => typeof pattern === 'string' ? this.output.includes(pattern) : pattern.test(this.output)
    await waitFor(matches, `terminal output ${String(pattern)} (got ${JSON.stringify(this.output.slice(-300))})`, timeoutMs, 10)
    return this.output
  }

  async waitForControl (type: string, timeoutMs = 10_000): Promise<Control> {
    return waitFor(() => this.controls.find((c) => c.type === type), `a ${type} control frame`, timeoutMs, 10)
  }

  /** The session id from the first control frame. */
  async sessionId (): Promise<string> {
    return (await this.waitForControl('session')).id
  }

  close (): void {
    this.socket.terminate()
  }
}
