import type { Logger } from '../logger.js'
import { sleepLong } from '../lib/long-sleep.js'
import { challengeCode } from './challenge-code.js'
import { callDashboard, field } from './dashboard.js'
import { errorMessage } from '../lib/error-message.js'

/** How a registration ended; `agent-server status` shows it. */
export type RegistrationState = 'pending' | 'reregistered' | 'awaiting-confirmation' | 'confirmed' | 'timeout' | 'failed' | 'stopped'

/** What registration sends and how long it waits (devpilot's values by default). */
export interface RegistrationOptions {
  dashboard: string
  name: string
  tunnelUrl: string
  terminalUrl: string
  tunnelToken: string
  /** Read when needed, never printed or logged. */
  apiKey: () => string
  /** Where the banner goes (the user's terminal). */
  print: (text: string) => void
  log: Logger
  signal: AbortSignal
  onState?: (state: RegistrationState) => void
  pollIntervalMs?: number
  pollTimeoutMs?: number
  submitTries?: number
  retryDelayMs?: number
}

const REFRESH_TIMEOUT_MS = 15_000
const SUBMIT_TIMEOUT_MS = 30_000
const POLL_REQUEST_TIMEOUT_MS = 10_000

/**
 * devpilot's registration: `POST /api/register/refresh-token` first (a box the dashboard knows is
 * re-registered), else the challenge-code flow: `POST /api/register`, a banner with the code, and
 * `GET /api/register/{id}/status` every 5 s for 10 minutes. Never rejects.
 */
export async function register (options: RegistrationOptions): Promise<RegistrationState> {
  const { log } = options
  const setState = (state: RegistrationState): RegistrationState => {
    try { options.onState?.(state) } catch (err) { log.error({ err }, 'registration state listener failed') }
    return state
  }
  try {
    return setState(await registerOnce(options, setState))
  } catch (err) {
    if (options.signal.aborted) return setState('stopped')
    log.error({ err, event: 'register' }, 'registration failed')
    return setState('failed')
  }
}

async function registerOnce (options: RegistrationOptions, setState: (state: RegistrationState) => RegistrationState): Promise<RegistrationState> {
  const { dashboard, log, signal } = options
  const key = options.apiKey()
  const common = { name: options.name, tunnel_url: options.tunnelUrl, terminal_url: options.terminalUrl }
  try {
    const answer = await callDashboard('POST', `${dashboard}/api/register/refresh-token`, {
      ...common, tunnel_token: options.tunnelToken, api_key: key, current_api_key: key,
    }, REFRESH_TIMEOUT_MS, signal)
    const updated = field(answer.body, 'updated')
    if (answer.status < 300 && Boolean(updated)) {
      options.print(`Re-registered with dashboard (devbox: ${String(updated)})\n`)
      log.info({ event: 'register', state: 'reregistered' }, 're-registered with the dashboard')
      return 'reregistered'
    }
  } catch (err) {
    if (signal.aborted) return 'stopped'
    log.debug({ err, event: 'register' }, 're-registration failed; trying the challenge code')
  }

  const code = challengeCode()
  const body = {
    ...common,
    challenge_code: code,
    ...(key !== '' ? { api_key: key } : {}),
    ...(options.tunnelToken !== '' ? { tunnel_token: options.tunnelToken } : {}),
  }
  const tries = options.submitTries ?? 3
  let id: unknown
  for (let attempt = 1; ; attempt++) {
    try {
      const answer = await callDashboard('POST', `${dashboard}/api/register`, body, SUBMIT_TIMEOUT_MS, signal)
      if (answer.status >= 300) {
        options.print(`Registration refused by the dashboard: HTTP ${answer.status} ${answer.text}\n`)
        return 'failed'
      }
      id = field(answer.body, 'id')
      break
    } catch (err) {
      if (signal.aborted) return 'stopped'
      log.warn({ event: 'register', attempt, err: String(err) }, 'registration submit failed')
      if (attempt >= tries) {
        options.print(`Failed to submit registration: ${String(errorMessage(err))}\n`)
        return 'failed'
      }
      if (!(await sleepLong(options.retryDelayMs ?? 5000, signal))) return 'stopped'
    }
  }
  if (id === undefined || id === null || id === '') {
    options.print('Failed to submit registration.\n')
    return 'failed'
  }
  const rule = '='.repeat(50)
  options.print(`\n${rule}\n  REGISTRATION CODE: ${code}\n${rule}\nEnter this code on the dashboard to confirm: ${dashboard}/devboxes\n\n`)
  setState('awaiting-confirmation')

  const pollMs = options.pollIntervalMs ?? 5000
  const deadline = Date.now() + (options.pollTimeoutMs ?? 600_000)
  while (Date.now() < deadline) {
    if (!(await sleepLong(Math.min(pollMs, Math.max(0, deadline - Date.now())), signal))) return 'stopped'
    try {
      const answer = await callDashboard('GET', `${dashboard}/api/register/${encodeURIComponent(String(id))}/status`, undefined, POLL_REQUEST_TIMEOUT_MS, signal)
      if (field(answer.body, 'status') === 'confirmed') {
        const devbox = field(answer.body, 'devbox')
        options.print(`Confirmed! Registered as: ${String(field(devbox, 'name') ?? options.name)} (id: ${String(field(devbox, 'id') ?? '')})\n`)
        log.info({ event: 'register', state: 'confirmed' }, 'registration confirmed')
        return 'confirmed'
      }
    } catch (err) {
      if (signal.aborted) return 'stopped'
      log.debug({ err: String(err), event: 'register-poll' }, 'registration status poll failed')
    }
  }
  options.print('Registration timed out (10 minutes). Restart agent-server to retry.\n')
  return 'timeout'
}
