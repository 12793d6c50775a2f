import WebSocket from 'ws'
import { RuntimeError } from '../client/index.js'
import type { Credentials } from './credentials.js'
import type { CommandIo } from './io.js'

// Ctrl-] leaves the terminal running on the server, like telnet's escape key.
const DETACH_KEY = '\u001d'
const CLOSE_UNAUTHORIZED = 3401
// End-of-file as typed on a terminal (Ctrl-D): a shell at its prompt exits.
const END_OF_INPUT = '\u0004'

/**
 * Puts back the modes a remote program may have set, so the local terminal needs no `reset`:
 * leaves the alternate screen, turns off mouse reporting, bracketed paste and application
 * keypad/cursor keys, resets attributes and shows the cursor.
 */
export const RESTORE_TERMINAL = [
  '\u001b[?1049l', '\u001b[?47l', // alternate screen
  '\u001b[?1000l', '\u001b[?1002l', '\u001b[?1003l', '\u001b[?1005l', '\u001b[?1006l', '\u001b[?1015l', // mouse
  '\u001b[?2004l', // bracketed paste
  '\u001b[?1l', '\u001b>', // cursor keys and keypad back to normal
  '\u001b[0m', '\u001b[?25h', // attributes, cursor shown
].join('')

/** What `agent-server attach` was asked for. */
export interface AttachOptions {
  workdir?: string | undefined
  shell?: string | undefined
  session?: string | undefined
  readonly?: boolean | undefined
}

type TtyIo = CommandIo & {
  stdin: CommandIo['stdin'] & { setRawMode?: (raw: boolean) => void }
  stdout: CommandIo['stdout'] & { columns?: number, rows?: number }
}

/** The terminal socket URL for these options (the key goes in a header, never in the URL). */
export function terminalUrl (serverUrl: string, options: AttachOptions, size: { cols?: number | undefined, rows?: number | undefined }): string {
  const url = new URL('/terminal', serverUrl)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  const query: Record<string, string | undefined> = {
    session: options.session,
    workdir: options.session ? undefined : options.workdir,
    shell: options.session ? undefined : options.shell,
    readonly: options.readonly ? '1' : undefined,
    cols: size.cols ? String(size.cols) : undefined,
    rows: size.rows ? String(size.rows) : undefined,
  }
  for (const [name, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(name, value)
  return url.toString()
}

const unauthorized = (): RuntimeError => new RuntimeError(401, 'UNAUTHORIZED', 'the server refused the API key (pass --key or set AGENT_RUNTIME_API_KEY)')

/**
 * Connects this terminal to a shell on the server (a new one, or `--session` to reattach) until
 * the shell ends — the exit code is the shell's — or the user detaches with Ctrl-].
 */
export async function runAttach (credentials: Credentials, options: AttachOptions, io: TtyIo): Promise<number> {
  const size = { cols: io.stdout.columns, rows: io.stdout.rows }
  const socket = new WebSocket(terminalUrl(credentials.url, options, size), {
    headers: credentials.apiKey ? { 'x-api-key': credentials.apiKey } : {},
  })
  const raw = io.stdin.isTTY === true && typeof io.stdin.setRawMode === 'function'
  let sessionId: string | undefined
  let exitCode: number | undefined
  let refusal: Error | undefined
  let detached = false
  let lastInput = ''

  const send = (message: unknown): void => {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message))
  }
  const onInput = (chunk: Buffer | string): void => {
    const data = chunk.toString()
    if (raw && data.includes(DETACH_KEY)) {
      detached = true
      socket.close(1000, 'detached')
      return
    }
    send({ type: 'input', data })
    lastInput = data
  }
  // Why: without a TTY nobody can press Ctrl-], so the end of the input ends the attach: the shell
  // gets Ctrl-D (after a newline for an unfinished line) and ends, instead of waiting as an orphan.
  const onEnd = (): void => {
    if (raw) return
    if (options.readonly) {
      detached = true
      socket.close(1000, 'input ended')
      return
    }
    send({ type: 'input', data: (/[\r\n]$/.test(lastInput) || lastInput === '' ? '' : '\r') + END_OF_INPUT })
  }
  const onResize = (): void => send({ type: 'resize', cols: io.stdout.columns, rows: io.stdout.rows })

  socket.on('message', (frame: Buffer) => {
    const text = frame.toString('utf8')
    if (!text.startsWith('\u0000')) {
      io.stdout.write(text)
      return
    }
    let message: { type?: string, id?: string, exitCode?: number | null, signal?: string | null, message?: string } | null = null
    try { message = JSON.parse(text.slice(1)) } catch { /* not a control message of ours: ignored below */ }
    if (typeof message !== 'object' || message === null) return
    if (message.type === 'session') {
      sessionId = message.id
      if (raw) io.stderr.write(`[attached to terminal ${sessionId}; Ctrl-] detaches]\r\n`)
    } else if (message.type === 'exit') {
      exitCode = message.exitCode ?? 129
    } else if (message.type === 'error') {
      refusal = new Error(message.message ?? 'the server refused the terminal')
    }
  })
  socket.once('unexpected-response', (_request, response) => {
    let body = ''
    response.on('error', () => socket.terminate())
    response.on('data', (chunk: Buffer) => { body += chunk.toString() })
    response.on('end', () => {
      const status = response.statusCode ?? 0
      let answer: { error?: string, code?: string } = {}
      try { answer = JSON.parse(body) } catch { /* not JSON */ }
      refusal = status === 401
        ? unauthorized()
        : new RuntimeError(status, answer.code ?? `HTTP_${status}`, answer.error ?? `HTTP ${response.statusCode ?? '?'}`)
      socket.terminate()
    })
  })

  const closed = new Promise<{ code: number, error?: Error }>((resolve) => {
    // Why `on`: with `once`, any 'error' after the first would find no listener and stop the CLI.
    socket.on('error', (error) => resolve({ code: 0, error }))
    socket.once('close', (code) => resolve({ code }))
  })
  socket.once('open', () => {
    if (raw) io.stdin.setRawMode?.(true)
    io.stdin.on('data', onInput)
    io.stdin.once('end', onEnd)
    io.stdin.resume()
    io.stdout.on('resize', onResize)
  })
  const { code, error } = await closed
  io.stdin.off('data', onInput)
  io.stdin.off('end', onEnd)
  io.stdout.off('resize', onResize)
  if (raw) io.stdin.setRawMode?.(false)
  io.stdin.pause()
  if (io.stdout.isTTY === true && sessionId !== undefined) io.stdout.write(RESTORE_TERMINAL)

  if (exitCode !== undefined) return exitCode
  if (detached) {
    io.stderr.write(`\r\n[detached; the shell keeps running: agent-server attach --session ${sessionId ?? '?'}]\n`)
    return 0
  }
  // Why RuntimeError: the errors of the HTTP client's shapes, so describeClientError adds where the URL and key came from.
  if (code === CLOSE_UNAUTHORIZED) throw unauthorized()
  if (refusal) throw refusal
  if (error && !sessionId) throw new RuntimeError(0, 'UNREACHABLE', `cannot reach ${credentials.url}: ${(error as NodeJS.ErrnoException).code ?? error.message}`, { cause: error })
  throw new Error(`connection lost${sessionId ? `; the shell keeps running: agent-server attach --session ${sessionId}` : ''}`)
}
