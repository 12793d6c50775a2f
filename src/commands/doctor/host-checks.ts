import { execFileSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { request as httpsRequest } from 'node:https'
import { createServer } from 'node:net'
import { isSameProcess } from '../../exec/process-group.js'
import { readServerInfo } from '../../update/server-info.js'
import { findOnPath, result, type CheckResult } from './check.js'

// The /health probe of a taken port gets this long.
const HEALTH_PROBE_MS = 2000

const listenError = async (host: string, port: number): Promise<NodeJS.ErrnoException | null> => new Promise((resolve) => {
  const server = createServer()
  server.once('error', (err: NodeJS.ErrnoException) => resolve(err))
  server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)))
})

const urlHost = (host: string): string => host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host

/**
 * Whether an agent-server answers /health at `url` (no key needed for `{status}`). Why not fetch:
 * against a peer that closes at once, fetch's promise never settled and the process exited with 13.
 */
async function answersHealth (url: string): Promise<boolean> {
  const request = url.startsWith('https:') ? httpsRequest : httpRequest
  return new Promise((resolve) => {
    let body = ''
    const timer = setTimeout(() => { req.destroy(); resolve(false) }, HEALTH_PROBE_MS)
    const done = (answer: boolean): void => { clearTimeout(timer); resolve(answer) }
    const req = request(`${url}/health`, { rejectUnauthorized: false }, (response) => {
      response.setEncoding('utf8')
      response.on('data', (chunk: string) => { body += chunk })
      response.on('error', () => done(false))
      response.on('close', () => done(false)) // after 'end', a no-op: a promise settles once
      response.on('end', () => {
        try {
          const parsed = JSON.parse(body) as { status?: unknown, authenticated?: unknown }
          done(parsed.status === 'ok' && typeof parsed.authenticated === 'boolean')
        } catch {
          done(false)
        }
      })
    })
    req.on('error', () => done(false))
    req.end()
  })
}

/** The port: free, or taken by the agent-server of this state directory (server.json, /health), or by something else. */
export async function checkPort (host: string, port: number, stateDir: string, tls: boolean): Promise<CheckResult> {
  const name = `port ${port}`
  if (port === 0) return result(name, 'ok', 'port 0: the server picks a free port on each start')
  const err = await listenError(host, port)
  if (err === null) return result(name, 'ok', `free on ${host}`)
  if (err.code === 'EACCES') return result(name, 'fail', `${host}:${port} needs privileges to bind`, 'use a port above 1023 (--port)')
  if (err.code === 'EADDRNOTAVAIL') return result(name, 'fail', `${host} is not an address of this machine`, 'use --host 127.0.0.1 or an address of this machine')
  if (err.code !== 'EADDRINUSE') return result(name, 'fail', `cannot bind ${host}:${port}: ${err.code ?? err.message}`, 'pick another --port or --host')
  const info = readServerInfo(stateDir)
  if (info !== null && info.port === port && isSameProcess(info.pid, null) && await answersHealth(info.url)) {
    return result(name, 'ok', `taken by this state dir's agent-server ${info.version} (pid ${info.pid}, ${info.url})`)
  }
  const url = `${tls ? 'https' : 'http'}://${urlHost(host)}:${port}`
  if (await answersHealth(url)) return result(name, 'warn', `taken by an agent-server of another state directory (${url})`, 'stop it (agent-server stop --state-dir DIR) or use another --port')
  return result(name, 'fail', `taken by another program on ${host}:${port}`, `find it with: ss -ltnp 'sport = :${port}' — or use another --port`)
}

/** The shells sessions and --shell can use: at least one of bash, zsh or sh on PATH; /bin/sh for jobs. */
export function checkShells (path: string | undefined): CheckResult[] {
  const found = Object.fromEntries(['bash', 'zsh', 'sh', 'pwsh'].map((shell) => [shell, findOnPath(shell, path)]))
  const lines: CheckResult[] = []
  if (!existsSync('/bin/sh')) lines.push(result('/bin/sh', 'fail', 'missing: every job runs through /bin/sh', 'install a POSIX shell at /bin/sh (dash or bash)'))
  const listed = Object.entries(found).map(([shell, at]) => at === null ? `${shell} -` : `${shell} ${at}`).join(', ')
  if (found.bash === null && found.zsh === null && found.sh === null) {
    lines.push(result('shells', 'fail', `no bash, zsh or sh on PATH (${listed}): persistent sessions cannot start`, 'put /bin and /usr/bin on the PATH the server starts with'))
  } else if (found.bash === null) {
    lines.push(result('shells', 'warn', `no bash on PATH (${listed}): sessions default to ${found.sh !== null ? 'sh' : 'zsh'}`, 'install bash for the default session shell'))
  } else {
    lines.push(result('shells', 'ok', listed))
  }
  return lines
}

/** Optional programs: tunnels (a fail when the configured tunnel's is missing) and Chromium (informative). */
export function checkPrograms (path: string | undefined, tunnel: string | null): CheckResult[] {
  const lines: CheckResult[] = []
  for (const program of ['devtunnel', 'cloudflared']) {
    const at = findOnPath(program, path)
    if (at !== null) lines.push(result(program, 'ok', at))
    else if (tunnel === program) lines.push(result(program, 'fail', `not found on PATH, but --tunnel ${program} is configured`, `install ${program} (docs/operations.md, "Fleet")`))
    else lines.push(result(program, 'ok', `not found (optional: only for --tunnel ${program})`))
  }
  const chromium = ['chromium', 'chromium-browser', 'google-chrome'].map((name) => findOnPath(name, path)).find((at) => at !== null)
  lines.push(result('chromium', 'ok', chromium ? `${chromium} (optional: only the web page's browser tests use it)` : 'not found (optional: only the web page\'s browser tests use it)'))
  return lines
}

/** The clock: not before this installation's files, not absurdly late, and synchronised when timedatectl can tell. */
export function checkClock (referenceFile: string, now = Date.now()): CheckResult {
  const built = statSync(referenceFile).mtimeMs
  if (now < built - 86_400_000) return result('clock', 'fail', `${new Date(now).toISOString()} is before this installation was written (${new Date(built).toISOString()})`, 'set the clock (timedatectl set-ntp true): job times, retention and TLS need it')
  if (new Date(now).getUTCFullYear() >= 2100) return result('clock', 'fail', `${new Date(now).toISOString()} is far in the future`, 'set the clock (timedatectl set-ntp true)')
  let synced: string | undefined
  try {
    synced = execFileSync('timedatectl', ['show', '-p', 'NTPSynchronized', '--value'], { encoding: 'utf8', timeout: 2000, stdio: ['ignore', 'pipe', 'ignore'] }).trim()
  } catch { /* no timedatectl, or no systemd running */ }
  if (synced === 'no') return result('clock', 'warn', `${new Date(now).toISOString()}, not synchronised with NTP`, 'timedatectl set-ntp true')
  return result('clock', 'ok', `${new Date(now).toISOString()}${synced === 'yes' ? ', synchronised with NTP' : ''}`)
}
