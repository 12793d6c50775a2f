import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { FastifyInstance } from 'fastify'
import { buildApp, type AppHooks } from '../../src/app.js'
import { loadConfig, type RawOptions } from '../../src/config.js'
import { createLogger } from '../../src/logger.js'
import { killMatching } from './processes.js'
import { waitFor } from './wait.js'

/** A JSON answer from the server. */
export interface ApiResponse<T = any> {
  status: number
  headers: Headers
  body: T
}

/** A real server on an ephemeral loopback port with its own state directory. */
export interface TestServer {
  url: string
  key: string
  stateDir: string
  app: FastifyInstance
  /** Sends a request with the API key (unless `headers` overrides it) and parses a JSON answer. */
  api: <T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>) => Promise<ApiResponse<T>>
  /** Submits a shell job and returns its id. */
  submit: (body: Record<string, unknown>) => Promise<string>
  /** Long-polls until the job has finished and returns it. */
  finished: (jobId: string, timeoutSec?: number) => Promise<any>
  close: () => Promise<void>
}

export const makeStateDir = (): string => mkdtempSync(join(tmpdir(), 'agent-runtime-test-'))

/** Starts a server; `options` are CLI-style options (e.g. { maxConcurrentJobs: '1' }). */
export async function startServer (options: RawOptions = {}, env: NodeJS.ProcessEnv = {}, hooks: AppHooks = {}): Promise<TestServer> {
  const stateDir = (options.stateDir as string | undefined) ?? makeStateDir()
  const config = loadConfig({ port: '0', logLevel: 'silent', killGrace: '1', ...options, stateDir }, {})
  const key = 'test-key-' + Math.random().toString(36).slice(2)
  const app = await buildApp(config, createLogger(config.logLevel, false), { ...env, AGENT_RUNTIME_API_KEY: env.AGENT_RUNTIME_API_KEY ?? key }, hooks)
  await app.listen({ host: '127.0.0.1', port: 0 })
  const address = app.server.address()
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  const serverKey = env.AGENT_RUNTIME_API_KEY ?? key

  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse> => {
    const response = await fetch(url + path, {
      method,
      headers: { 'x-api-key': serverKey, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    })
    const text = await response.text()
    let parsed: unknown = text
    try { parsed = JSON.parse(text) } catch { /* not JSON */ }
    return { status: response.status, headers: response.headers, body: parsed }
  }
  const submit = async (body: Record<string, unknown>): Promise<string> => {
    const response = await api('POST', '/exec', body)
    if (response.status !== 202) throw new Error(`submit failed: ${response.status} ${JSON.stringify(response.body)}`)
    return response.body.jobId
  }
  const finished = async (jobId: string, timeoutSec = 30): Promise<any> => waitFor(async () => {
    const job = (await api('GET', `/jobs/${jobId}?wait=${Math.min(timeoutSec, 60)}`)).body
    return job.status !== 'pending' && job.status !== 'running' ? job : undefined
  }, `job ${jobId} to finish`, timeoutSec * 1000)
  let closed = false
  const close = async (): Promise<void> => {
    if (closed) return
    closed = true
    await app.close()
    const leftovers = killMatching(stateDir)
    rmSync(stateDir, { recursive: true, force: true })
    if (leftovers.length > 0) throw new Error(`processes left behind after the server stopped: ${leftovers.join(', ')}`)
  }
  return { url, key: serverKey, stateDir, app, api, submit, finished, close }
}
