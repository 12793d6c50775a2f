import { createInterface } from 'node:readline'
import { execa } from 'execa'
import type { Logger } from '../logger.js'
import { groupAlive } from '../exec/process-group.js'
import { killGroup } from '../update/group-kill.js'

/** What the first lines of a tunnel host told us. */
export type HostStart =
  | { ok: true, url: string }
  | { ok: false, reason: string }

/** A running tunnel host (`devtunnel host`, `cloudflared tunnel`): its URL and the way to end it. */
export interface HostProcess {
  pid: number | undefined
  /** Settles with the URL (or why there is none) once found, or after the deadline. */
  started: Promise<HostStart>
  /** True until the host exits. */
  readonly alive: boolean
  /** Kills the host's whole process group; idempotent. */
  close: () => void
}

/** How a host's output is read. */
export interface HostOptions {
  command: string
  args: string[]
  /** Returns the URL found in a line, if any. */
  findUrl: (line: string) => string | undefined
  /** Returns a reason when a line means the host cannot work (e.g. "login required"). */
  fatal?: (line: string) => string | undefined
  /** How long to wait for the URL. */
  urlDeadlineMs: number
  log: Logger
}

// Every host still running; killed on any exit of this process, so none outlives it.
const liveHosts = new Set<number>()
let exitHookInstalled = false

function installExitHook (): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  // Why: `process.exit` (the exit-42 path of an update) skips every close(); devpilot orphaned
  // `devtunnel host` there and the next server started a second one. Signals to a group are synchronous.
  process.on('exit', () => {
    for (const pid of liveHosts) {
      try { process.kill(-pid, 'SIGKILL') } catch { /* already gone */ }
    }
  })
}

/**
 * Starts a tunnel host in its own process group with stdout and stderr merged, echoes each line to
 * the log as `[tunnel]`, and resolves `started` with the first URL, a fatal line, its exit, or the deadline.
 */
export function startHost (options: HostOptions): HostProcess {
  const { log } = options
  installExitHook()
  const subprocess = execa(options.command, options.args, {
    stdin: 'ignore',
    all: true,
    detached: true,
    buffer: false,
    reject: false,
    forceKillAfterDelay: false,
  })
  const pid = subprocess.pid
  if (pid !== undefined) liveHosts.add(pid)
  let alive = pid !== undefined
  let closed = false
  let settle: (value: HostStart) => void = () => {}
  const started = new Promise<HostStart>((resolve) => {
    let done = false
    settle = (value) => {
      if (done) return
      done = true
      clearTimeout(timer)
      resolve(value)
    }
    const timer = setTimeout(() => settle({ ok: false, reason: `no tunnel URL within ${options.urlDeadlineMs} ms` }), options.urlDeadlineMs)
  })
  subprocess.then((result) => {
    alive = false
    if (pid !== undefined) liveHosts.delete(pid)
    const missing = (result.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT'
    settle({ ok: false, reason: missing ? `${options.command} is not installed` : `${options.command} exited (code ${result.exitCode ?? result.signal ?? 'unknown'})` })
    if (!closed) log.warn({ event: 'tunnel-host-exit', code: result.exitCode, signal: result.signal }, 'tunnel host exited')
  }).catch((err: unknown) => log.error({ err }, 'tunnel host watch failed'))
  if (subprocess.all) {
    // Why: the output is drained for the host's whole life, or a full pipe would stall the tunnel.
    const lines = createInterface({ input: subprocess.all, crlfDelay: Infinity })
    lines.on('error', (err) => log.warn({ err, event: 'tunnel-output' }, 'tunnel output stream failed'))
    lines.on('line', (line) => {
      try {
        log.info({ event: 'tunnel-output', line: line.slice(0, 2000) }, '[tunnel]')
        const fatal = options.fatal?.(line)
        if (fatal !== undefined) return settle({ ok: false, reason: fatal })
        const url = options.findUrl(line)
        if (url !== undefined) settle({ ok: true, url })
      } catch (err) {
        log.error({ err, event: 'tunnel-output' }, 'reading the tunnel output failed')
      }
    })
  }
  const close = (): void => {
    if (closed) return
    closed = true
    settle({ ok: false, reason: 'closed' })
    if (pid === undefined) return
    if (groupAlive(pid)) killGroup(pid, log, { event: 'tunnel-close' })
    liveHosts.delete(pid)
  }
  return { pid, started, get alive () { return alive }, close }
}
