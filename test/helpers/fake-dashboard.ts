import { createServer, type IncomingMessage, type Server } from 'node:http'
import { once } from 'node:events'

/** One request the fake dashboard received. */
export interface DashboardRequest {
  method: string
  path: string
  body: Record<string, unknown> | undefined
}

/** How the fake dashboard answers; tests change it while it runs. */
export interface DashboardBehaviour {
  /** refresh-token: 'updated' answers {updated: name}; a number answers that status. */
  refresh: 'updated' | 'not-updated' | number
  /** POST /api/register: drop the connection this many times first, then answer `registerStatus`. */
  dropRegister: number
  registerStatus: number
  /** GET status: 'confirmed' after this many polls (Infinity = never). */
  confirmAfterPolls: number
  /** POST heartbeat status. */
  heartbeatStatus: number
}

/** A devpilot dashboard on loopback that records what it receives. */
export interface FakeDashboard {
  url: string
  requests: DashboardRequest[]
  behaviour: DashboardBehaviour
  heartbeats: () => Array<Record<string, unknown>>
  close: () => Promise<void>
}

async function readBody (request: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  let text = ''
  for await (const chunk of request) text += String(chunk)
  try { return JSON.parse(text) as Record<string, unknown> } catch { return undefined }
}

/** Starts the fake dashboard on 127.0.0.1 with devpilot's routes. */
export async function startFakeDashboard (behaviour: Partial<DashboardBehaviour> = {}): Promise<FakeDashboard> {
  const state: DashboardBehaviour = { refresh: 404, dropRegister: 0, registerStatus: 200, confirmAfterPolls: 1, heartbeatStatus: 200, ...behaviour }
  const requests: DashboardRequest[] = []
  let polls = 0
  const server: Server = createServer((request, response) => {
    readBody(request).then((body) => {
      const path = request.url ?? '/'
      requests.push({ method: request.method ?? 'GET', path, body })
      const json = (status: number, value: unknown): void => {
        response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value))
      }
      if (path === '/api/register/refresh-token') {
        if (typeof state.refresh === 'number') return json(state.refresh, { error: 'not found' })
        return json(200, state.refresh === 'updated' ? { updated: body?.name } : { updated: null })
      }
      if (path === '/api/register' && request.method === 'POST') {
        if (state.dropRegister > 0) {
          state.dropRegister--
          request.socket.destroy()
          return
        }
        return json(state.registerStatus, state.registerStatus < 300 ? { id: 'reg-1' } : { error: 'refused by the fake dashboard' })
      }
      if (path === '/api/register/reg-1/status') {
        polls++
        return json(200, polls >= state.confirmAfterPolls ? { status: 'confirmed', devbox: { id: 'box-7', name: 'fleet-box' } } : { status: 'pending' })
      }
      if (path === '/api/register/heartbeat') return json(state.heartbeatStatus, { ok: state.heartbeatStatus < 300 })
      json(404, { error: 'not found' })
    }).catch(() => response.destroy())
  })
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    behaviour: state,
    heartbeats: () => requests.filter((r) => r.path === '/api/register/heartbeat').map((r) => r.body ?? {}),
    close: async () => {
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    },
  }
}
