import { client, type ClientApp, type SessionNotification } from '@agentclientprotocol/sdk'
import { requireCapability, type CapabilitySwitches } from './capabilities.js'
import type { FsService } from './fs-service.js'
import type { SessionRecorder } from './recorder.js'
import type { AcpTerminals } from './terminals.js'
import type { PermissionBroker } from './permission-broker.js'
import { errorMessage } from '../lib/error-message.js'

/** What the client's handlers work with. */
export interface HandlerParts {
  recorder: SessionRecorder
  fs: FsService
  terminals: AcpTerminals
  permissions: PermissionBroker
  /** Services switched off are refused with -32601 (they were not advertised either). */
  capabilities?: CapabilitySwitches | undefined
  /** Every session/update the SDK validated, in arrival order. */
  onUpdate: (notification: SessionNotification) => void
}

/**
 * The ACP client app: answers every agent→client request we advertise (permissions, fs, terminals)
 * and records each as an event; anything else the SDK answers with -32601.
 */
export function buildClientApp (parts: HandlerParts): ClientApp {
  // Why `parts.x` read per request: a warm session hands out the current turn's parts (agent-session.ts).
  const switches = (): CapabilitySwitches => parts.capabilities ?? {}
  // Records an event for a request once it is answered, with the error when it failed.
  const recorded = async <T>(type: string, data: Record<string, unknown>, work: () => Promise<T>): Promise<T> => {
    const recorder = parts.recorder
    try {
      const result = await work()
      recorder.record(type, data)
      return result
    } catch (err) {
      recorder.record(type, { ...data, error: errorMessage(err) })
      throw err
    }
  }
  return client({ name: 'agent-runtime' })
    .onNotification('session/update', (ctx) => parts.onUpdate(ctx.params))
    .onRequest('session/request_permission', (ctx) => parts.permissions.decide(ctx.params, ctx.signal))
    .onRequest('fs/read_text_file', (ctx) => {
      const { path, line, limit } = ctx.params
      return recorded('file_read', { path, line: line ?? null, limit: limit ?? null }, async () => {
        requireCapability(switches(), 'fs', 'fs/read_text_file')
        return await parts.fs.read(ctx.params)
      })
    })
    .onRequest('fs/write_text_file', (ctx) => {
      const { path, content } = ctx.params
      return recorded('file_write', { path, bytes: Buffer.byteLength(content) }, async () => {
        requireCapability(switches(), 'fs', 'fs/write_text_file')
        await parts.fs.write(ctx.params)
        return {}
      })
    })
    .onRequest('terminal/create', async (ctx) => {
      const { command, args, cwd } = ctx.params
      const recorder = parts.recorder
      try {
        requireCapability(switches(), 'terminal', 'terminal/create')
        const start = await parts.terminals.create(ctx.params)
        recorder.record('terminal_run', { terminalId: start.terminalId, command, args: start.args, cwd: start.cwd })
        start.ended.then((status) => recorder.record('terminal_exit', { terminalId: start.terminalId, ...status }), () => {})
        return { terminalId: start.terminalId }
      } catch (err) {
        recorder.record('terminal_run', { terminalId: null, command, args: args ?? [], cwd: cwd ?? null, error: errorMessage(err) })
        throw err
      }
    })
    .onRequest('terminal/output', (ctx) => { requireCapability(switches(), 'terminal', 'terminal/output'); return parts.terminals.output(ctx.params.terminalId) })
    .onRequest('terminal/wait_for_exit', (ctx) => { requireCapability(switches(), 'terminal', 'terminal/wait_for_exit'); return parts.terminals.waitForExit(ctx.params.terminalId) })
    .onRequest('terminal/kill', async (ctx) => { requireCapability(switches(), 'terminal', 'terminal/kill'); await parts.terminals.kill(ctx.params.terminalId); return {} })
    .onRequest('terminal/release', async (ctx) => { requireCapability(switches(), 'terminal', 'terminal/release'); await parts.terminals.release(ctx.params.terminalId); return {} })
}
