import type { WebSocket } from 'ws'
import type { SocketAuth } from '../auth/socket-auth.js'
import { Errors } from '../errors.js'
import { childEnv } from '../lib/child-env.js'
import type { Logger } from '../logger.js'
import { controlFrame, parseClientMessage } from './protocol.js'
import type { TerminalRegistry } from './registry.js'
import { defaultShell, parseTerminalQuery, type TerminalQuery, type TerminalRequest } from './request.js'
import type { TerminalSession } from './session.js'
import { errorMessage } from '../lib/error-message.js'

// Sockets are pinged this often; one that did not answer the previous ping is dropped.
const HEARTBEAT_MS = 30_000

// WebSocket close codes of the terminal protocol.
const CLOSE_TRY_AGAIN_LATER = 1013
const CLOSE_SPAWN_FAILED = 1011
const CLOSE_SESSION_GONE = 4404

// Connects authenticated WebSockets to terminals: new shells or reattached sessions.
export class TerminalService {
  readonly registry: TerminalRegistry
  readonly #auth: SocketAuth
  readonly #log: Logger
  readonly #shell = defaultShell()

  constructor (registry: TerminalRegistry, auth: SocketAuth, log: Logger) {
    this.registry = registry
    this.#auth = auth
    this.#log = log
  }

  /** Validates a socket's query before the upgrade: 400 for bad values, 404 for an unknown session. */
  prepare (query: TerminalQuery): TerminalRequest {
    const request = parseTerminalQuery(query, process.cwd(), this.#shell)
    if (request.sessionId !== undefined && !this.registry.get(request.sessionId)) throw new Errors.TERMINAL_NOT_FOUND()
    return request
  }

  /** Serves one socket from `address`: authenticate (unless done by header or ticket), then start or reattach its terminal. */
  async connect (socket: WebSocket, request: TerminalRequest, authenticated: boolean, address: string): Promise<void> {
    const frames = await this.#auth.authenticateHolding(socket, authenticated, address)
    if (!frames) return
    const session = this.#sessionFor(socket, request)
    if (!session) return frames.release(() => {})
    const client = session.attach(socket, request.readonly, request.sessionId !== undefined)
    keepAlive(socket)
    frames.release((raw, isBinary) => {
      try {
        const message = parseClientMessage(raw, isBinary)
        if (message === null) session.ignoreFrame()
        else if (message.type === 'input') session.input(client, message.data)
        else if (message.type === 'resize') session.resize(client, message.cols, message.rows)
        else session.pong(client)
      } catch (err) {
        this.#log.warn({ err, terminalId: session.id }, 'terminal input failed')
      }
    })
    socket.once('close', () => session.detach(client))
  }

  #sessionFor (socket: WebSocket, request: TerminalRequest): TerminalSession | undefined {
    const refuse = (code: number, message: string): undefined => {
      socket.send(controlFrame({ type: 'error', message }))
      socket.close(code, message.slice(0, 120))
      return undefined
    }
    if (request.sessionId !== undefined) {
      return this.registry.get(request.sessionId) ?? refuse(CLOSE_SESSION_GONE, 'terminal session not found (it has ended)')
    }
    let opened: ReturnType<TerminalRegistry['open']>
    try {
      opened = this.registry.open({ ...request, env: childEnv({ TERM: 'xterm-256color', COLORTERM: 'truecolor' }) })
    } catch (err) {
      this.#log.warn({ err }, 'terminal spawn failed')
      return refuse(CLOSE_SPAWN_FAILED, `Failed to spawn shell: ${errorMessage(err)}`)
    }
    return 'refused' in opened ? refuse(CLOSE_TRY_AGAIN_LATER, opened.refused) : opened
  }
}

/** Pings the socket regularly and drops it when the peer stopped answering (a vanished laptop). */
function keepAlive (socket: WebSocket): void {
  let answered = true
  socket.on('pong', () => { answered = true })
  const timer = setInterval(() => {
    if (!answered) return socket.terminate()
    answered = false
    socket.ping()
  }, HEARTBEAT_MS).unref()
  socket.once('close', () => clearInterval(timer))
}
