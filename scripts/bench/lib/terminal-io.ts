// Two kinds of terminal the terminal benchmark types into and reads from, behind one interface:
// a shell on a node-pty in this process (the floor: no server, no WebSocket) and a server
// terminal over GET /terminal (WebSocket). Every output chunk reaches the current sink with the
// time it arrived (performance.now() taken first thing in the callback).
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import * as pty from 'node-pty'
import WebSocket from 'ws'

/** Receives output: a string (node-pty, utf8-decoded like the server's) or a Buffer (a WebSocket text frame). */
export type Sink = (chunk: Buffer | string, at: number) => void

const ignore: Sink = () => {}

export interface TtyEndpoint {
  readonly name: string
  /** Types `data` (a PTY write, or an `input` frame). */
  write: (data: string) => void
  /** Replaces the output consumer. */
  setSink: (sink: Sink) => void
  /** Rejects when the terminal ends or its socket closes before `close()`. */
  readonly ended: Promise<never>
  close: () => Promise<void>
}

/** A server terminal, with when its socket opened and its `session` frame arrived. */
export interface ServerTerminal extends TtyEndpoint {
  sessionId: string
  openMs: number
  sessionFrameMs: number
  /** Sends a `ping` frame; resolves with the milliseconds until its `pong` arrived. */
  ping: (timeoutMs?: number) => Promise<number>
}

/** Starts `file args` on a node-pty in this process, as the server does (xterm-256color, utf8). */
export function openPty (file: string, args: string[], cols: number, rows: number, cwd: string): TtyEndpoint & { pid: number } {
  const term = pty.spawn(file, args, { name: 'xterm-256color', cols, rows, cwd, env: { ...process.env, TERM: 'xterm-256color' } })
  let sink = ignore
  let closing = false
  let exited = false
  term.onData((data) => {
    const at = performance.now()
    sink(data, at)
  })
  const ended = new Promise<never>((_resolve, reject) => {
    term.onExit(({ exitCode, signal }) => {
      exited = true
      if (!closing) reject(new Error(`the in-process PTY's shell exited (code ${exitCode}, signal ${signal ?? 'none'})`))
    })
  })
  ended.catch(() => {})
  return {
    name: 'node-pty in-process',
    pid: term.pid,
    write: (data) => term.write(data),
    setSink: (next) => { sink = next },
    ended,
    close: async () => {
      closing = true
      if (exited) return
      term.kill('SIGHUP')
      const gone = (): boolean => exited
      for (let i = 0; i < 100 && !gone(); i++) await sleep(20)
      if (!gone()) term.kill('SIGKILL')
    },
  }
}

/** Opens GET /terminal with the key as a header; resolves once the `session` control frame arrived. */
export async function openServerTerminal (port: number, key: string, query: Record<string, string>, timeoutMs = 10_000): Promise<ServerTerminal> {
  const t0 = performance.now()
  let openMs = Number.NaN
  // Why skipUTF8Validation: the client shares the cores with the server; output is ASCII here anyway.
  const socket = new WebSocket(`ws://127.0.0.1:${port}/terminal?${new URLSearchParams(query).toString()}`, {
    headers: { 'X-API-Key': key },
    perMessageDeflate: false,
    skipUTF8Validation: true,
  })
  let sink = ignore
  let closing = false
  let failed: (err: Error) => void = () => {}
  const ended = new Promise<never>((_resolve, reject) => { failed = reject })
  ended.catch(() => {})
  const pongs: Array<(at: number) => void> = []
  let gotSession: (session: { id: string, at: number }) => void = () => {}
  const session = new Promise<{ id: string, at: number }>((resolve) => { gotSession = resolve })
  socket.on('open', () => { openMs = performance.now() - t0 })
  socket.on('message', (data: Buffer, isBinary: boolean) => {
    const at = performance.now()
    if (isBinary || data[0] !== 0) return sink(data, at)
    const control = JSON.parse(data.subarray(1).toString()) as { type: string, id?: string, message?: string, exitCode?: number | null, reason?: string }
    if (control.type === 'session') gotSession({ id: control.id ?? '', at })
    else if (control.type === 'pong') pongs.shift()?.(at)
    else if (control.type === 'error') failed(new Error(`server error frame: ${control.message ?? ''}`))
    else if (control.type === 'exit') failed(new Error(`the server terminal ended: exit ${control.exitCode ?? 'null'} (${control.reason ?? ''})`))
  })
  socket.on('error', (err) => failed(err))
  socket.on('close', (code, reason) => { if (!closing) failed(new Error(`the terminal socket closed: ${code} ${reason.toString()}`)) })
  const first = await Promise.race([session, ended, sleep(timeoutMs).then(() => { throw new Error(`no session frame after ${timeoutMs} ms`) })])
  return {
    name: 'server over WebSocket',
    sessionId: first.id,
    openMs,
    sessionFrameMs: first.at - t0,
    write: (data) => socket.send(JSON.stringify({ type: 'input', data })),
    ping: async (timeoutMs = 5000) => {
      const abort = new AbortController()
      const pong = new Promise<number>((resolve) => pongs.push(resolve))
      const t0 = performance.now()
      socket.send('{"type":"ping"}')
      try {
        return await Promise.race([pong, ended, sleep(timeoutMs, undefined, { signal: abort.signal }).then(() => { throw new Error(`no pong after ${timeoutMs} ms`) })]) - t0
      } finally {
        abort.abort()
      }
    },
    setSink: (next) => { sink = next },
    ended,
    close: async () => {
      closing = true
      if (socket.readyState === WebSocket.CLOSED) return
      const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
      socket.close(1000)
      await Promise.race([closed, sleep(2000)])
      socket.terminate()
    },
  }
}

const asText = (chunk: Buffer | string): string => typeof chunk === 'string' ? chunk : chunk.toString('latin1')

/** Resolves with the arrival time of the chunk that completes `text` (ASCII), searching across chunk boundaries. */
export async function waitForText (tty: TtyEndpoint, text: string, timeoutMs: number): Promise<number> {
  const keep = text.length - 1
  let tail = ''
  const abort = new AbortController()
  try {
    return await Promise.race([
      new Promise<number>((resolve) => {
        tty.setSink((chunk, at) => {
          const seen = tail + asText(chunk)
          if (seen.includes(text)) {
            tty.setSink(ignore)
            resolve(at)
          } else {
            tail = seen.slice(Math.max(0, seen.length - keep))
          }
        })
      }),
      tty.ended,
      sleep(timeoutMs, undefined, { signal: abort.signal }).then(() => { throw new Error(`${tty.name}: no ${JSON.stringify(text)} after ${timeoutMs} ms`) }),
    ])
  } finally {
    tty.setSink(ignore)
    abort.abort()
  }
}

/** Waits until no output arrived for `quietMs` (at most `maxMs`); true when it got quiet. */
export async function waitQuiet (tty: TtyEndpoint, quietMs: number, maxMs: number): Promise<boolean> {
  const start = performance.now()
  let last = start
  tty.setSink((_chunk, at) => { last = at })
  try {
    for (;;) {
      const now = performance.now()
      if (now - last >= quietMs) return true
      if (now - start >= maxMs) return false
      await Promise.race([sleep(Math.max(1, quietMs - (now - last))), tty.ended])
    }
  } finally {
    tty.setSink(ignore)
  }
}

/**
 * Counts output bytes until `marker` (ASCII) has arrived; returns the count and the arrival time
 * of the chunk that completed it. Cheap per chunk: a Buffer is searched in place.
 */
export async function countUntil (tty: TtyEndpoint, marker: string, timeoutMs: number, start: () => void): Promise<{ bytes: number, chunks: number, endAt: number }> {
  const keep = marker.length - 1
  let tail = ''
  let bytes = 0
  let chunks = 0
  const abort = new AbortController()
  try {
    return await Promise.race([
      new Promise<{ bytes: number, chunks: number, endAt: number }>((resolve) => {
        tty.setSink((chunk, at) => {
          chunks++
          const length = typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length
          bytes += length
          const head = typeof chunk === 'string' ? chunk.slice(0, keep) : chunk.subarray(0, keep).toString('latin1')
          if (chunk.indexOf(marker) !== -1 || (tail + head).includes(marker)) {
            tty.setSink(ignore)
            resolve({ bytes, chunks, endAt: at })
            return
          }
          const end = typeof chunk === 'string' ? chunk.slice(Math.max(0, chunk.length - keep)) : chunk.subarray(Math.max(0, length - keep)).toString('latin1')
          const joined = tail + end
          tail = joined.slice(Math.max(0, joined.length - keep))
        })
        start()
      }),
      tty.ended,
      sleep(timeoutMs, undefined, { signal: abort.signal }).then(() => { throw new Error(`${tty.name}: no ${JSON.stringify(marker)} after ${timeoutMs} ms (${bytes} bytes so far)`) }),
    ])
  } finally {
    tty.setSink(ignore)
    abort.abort()
  }
}
