// The web terminal: asks for the API key once per tab, connects with a single-use ticket,
// follows the window size, reattaches to the same shell after a dropped connection, and lets the
// user pick another open terminal of the server to reattach.
/* global Terminal, FitAddon, location, Option */
'use strict'

const KEY_ITEM = 'agent-runtime.key'
const SESSION_ITEM = 'agent-runtime.session'
const RECONNECT_MAX_MS = 5000
const CLOSE_UNAUTHORIZED = 3401
const DEFAULT_TITLE = document.title
// Page URL parameters passed on to a new terminal. Not `command`: a link must not be able to run
// something in the user's shell once they enter their key.
const FORWARDED_PARAMS = ['workdir', 'shell', 'readonly']

const el = (id) => document.getElementById(id)
const ui = {
  status: el('status'),
  login: el('login'),
  key: el('key'),
  loginError: el('login-error'),
  screen: el('terminal'),
  newTerminal: el('new-terminal'),
  forgetKey: el('forget-key'),
  title: el('title'),
  picker: el('session-picker'),
  pickerLabel: document.querySelector('label[for="session-picker"]'),
}

const term = new Terminal({ cursorBlink: true, scrollback: 5000, fontFamily: 'monospace' })
const fit = new FitAddon.FitAddon()
term.loadAddon(fit)

let socket = null
let reconnectDelay = 250
let exited = false

function setState (state, text) {
  document.body.dataset.state = state
  ui.status.textContent = text
}

function showLogin (message) {
  setState('login', 'not connected')
  ui.login.hidden = false
  ui.screen.hidden = true
  ui.forgetKey.hidden = true
  ui.picker.hidden = true
  ui.pickerLabel.hidden = true
  ui.loginError.textContent = message || ''
  ui.key.focus()
}

// Shows which machine this is, once the key is known to work (the host name is not public).
async function showHostName (key) {
  try {
    const response = await fetch('/health', { headers: { 'X-API-Key': key } })
    const { hostname } = await response.json()
    if (!hostname) return
    document.title = `${hostname} · agent-runtime`
    ui.title.textContent = hostname
    ui.title.title = `agent-runtime on ${hostname}`
  } catch { /* the title is a nicety: keep the default */ }
}

function describeTerminal (terminal) {
  const shell = terminal.shell.split('/').pop()
  const since = new Date(terminal.createdAt).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })
  const watching = terminal.clients === 1 ? '1 client' : `${terminal.clients} clients`
  return `${terminal.id.slice(0, 8)} · ${shell} · ${terminal.workdir} · ${watching} · since ${since}`
}

// Lists the server's open terminals (GET /terminals) in the picker, the current one selected.
async function refreshPicker () {
  const key = sessionStorage.getItem(KEY_ITEM)
  if (!key) return
  let terminals
  try {
    const response = await fetch('/terminals', { headers: { 'X-API-Key': key } })
    if (!response.ok) return
    terminals = (await response.json()).terminals
  } catch {
    return
  }
  const current = sessionStorage.getItem(SESSION_ITEM)
  const options = terminals.map((terminal) => new Option(describeTerminal(terminal), terminal.id, false, terminal.id === current))
  options.push(new Option('New terminal', '', false, !terminals.some((terminal) => terminal.id === current)))
  ui.picker.replaceChildren(...options)
  ui.picker.hidden = false
  ui.pickerLabel.hidden = false
}

// Leaves the current terminal running (it can be picked again) and attaches to `id`, or to a new one.
function switchTerminal (id) {
  if (id === (sessionStorage.getItem(SESSION_ITEM) || '') && socket && !exited) return
  if (id) sessionStorage.setItem(SESSION_ITEM, id)
  else sessionStorage.removeItem(SESSION_ITEM)
  exited = false
  ui.newTerminal.hidden = true
  const previous = socket
  socket = null
  if (previous) previous.close(1000, 'switching terminal')
  term.reset()
  connect()
}

function send (message) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message))
}

// A ticket refusal that retrying cannot fix (429: too many failed keys from here; other 4xx).
class TicketRefused extends Error {}

async function ticket (key) {
  const response = await fetch('/terminal/tickets', { method: 'POST', headers: { 'X-API-Key': key } })
  if (response.status === 401) return null
  if (!response.ok) {
    let reason = ''
    try { reason = (await response.json()).error || '' } catch { /* not JSON: the status says enough */ }
    const retryAfter = response.headers.get('retry-after')
    const message = `${reason || 'refused'} (HTTP ${response.status}${retryAfter ? `, retry after ${retryAfter} s` : ''})`
    if (response.status >= 400 && response.status < 500) throw new TicketRefused(message)
    throw new Error(message)
  }
  return (await response.json()).ticket
}

function scheduleReconnect (why) {
  setState('reconnecting', `${why}; reconnecting…`)
  setTimeout(connect, reconnectDelay)
  reconnectDelay = Math.min(reconnectDelay * 2, RECONNECT_MAX_MS)
}

function onControl (message) {
  if (message.type === 'session') {
    sessionStorage.setItem(SESSION_ITEM, message.id)
    reconnectDelay = 250
    setState('connected', `connected · ${message.id}${message.readonly ? ' · read-only' : ''}`)
    if (message.replay) term.reset()
    send({ type: 'resize', cols: term.cols, rows: term.rows })
    // Why: keys typed after Connect or a reload were lost until the user clicked the terminal.
    term.focus()
    refreshPicker()
  } else if (message.type === 'exit') {
    exited = true
    sessionStorage.removeItem(SESSION_ITEM)
    const how = message.signal ? `killed by ${message.signal}` : `exit code ${message.exitCode}`
    setState('exited', `shell ended (${message.reason}, ${how})`)
    term.write(`\r\n\x1b[33m[shell ended: ${message.reason}, ${how}]\x1b[0m\r\n`)
    ui.newTerminal.hidden = false
    refreshPicker()
  } else if (message.type === 'error') {
    term.write(`\r\n\x1b[31m[${message.message}]\x1b[0m\r\n`)
  }
}

async function connect () {
  const key = sessionStorage.getItem(KEY_ITEM)
  if (!key) return showLogin()
  ui.login.hidden = true
  ui.screen.hidden = false
  ui.forgetKey.hidden = false
  fit.fit()
  let granted
  try {
    granted = await ticket(key)
  } catch (err) {
    // Why: retrying a 429 with the same key only prolongs it; the user has to act.
    if (err instanceof TicketRefused) {
      sessionStorage.removeItem(KEY_ITEM)
      return showLogin(`The server refused the connection: ${err.message}`)
    }
    return scheduleReconnect(err instanceof TypeError ? 'cannot reach the server' : err.message)
  }
  if (granted === null) {
    sessionStorage.removeItem(KEY_ITEM)
    return showLogin('That key was not accepted.')
  }
  if (document.title === DEFAULT_TITLE) showHostName(key)
  const session = sessionStorage.getItem(SESSION_ITEM)
  const query = new URLSearchParams({ ticket: granted, cols: String(term.cols), rows: String(term.rows) })
  if (session) query.set('session', session)
  const page = new URLSearchParams(location.search)
  for (const name of FORWARDED_PARAMS) {
    if (page.has(name) && (!session || name === 'readonly')) query.set(name, page.get(name))
  }
  setState('connecting', session ? 'reattaching…' : 'starting a shell…')
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/terminal?${query}`)
  socket = ws
  let attached = false
  ws.onmessage = (event) => {
    // Why: a terminal the user switched away from may still deliver a frame or two.
    if (socket !== ws) return
    const data = event.data
    if (data.charCodeAt(0) === 0) {
      const message = JSON.parse(data.slice(1))
      if (message.type === 'session') attached = true
      onControl(message)
    } else {
      term.write(data)
    }
  }
  ws.onclose = (event) => {
    if (socket !== ws) return
    socket = null
    if (exited) return
    if (event.code === CLOSE_UNAUTHORIZED) {
      sessionStorage.removeItem(KEY_ITEM)
      return showLogin('That key was not accepted.')
    }
    // A session that could not be reattached has ended (or the server restarted): start a new one.
    if (!attached && session) sessionStorage.removeItem(SESSION_ITEM)
    scheduleReconnect(event.code === 1013 ? event.reason || 'server busy' : 'connection lost')
  }
}

ui.login.addEventListener('submit', (event) => {
  event.preventDefault()
  sessionStorage.setItem(KEY_ITEM, ui.key.value.trim())
  ui.key.value = ''
  connect()
})
ui.newTerminal.addEventListener('click', () => {
  exited = false
  ui.newTerminal.hidden = true
  term.reset()
  connect()
})
ui.forgetKey.addEventListener('click', () => {
  sessionStorage.removeItem(KEY_ITEM)
  if (socket) socket.close()
  showLogin()
})
ui.picker.addEventListener('focus', refreshPicker)
ui.picker.addEventListener('change', () => switchTerminal(ui.picker.value))
term.onData((data) => send({ type: 'input', data }))
term.onResize(({ cols, rows }) => send({ type: 'resize', cols, rows }))
window.addEventListener('resize', () => fit.fit())

term.open(ui.screen)
connect()
