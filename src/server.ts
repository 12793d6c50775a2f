import type { FastifyInstance } from 'fastify'
import { buildApp, type AppHooks } from './app.js'
import type { Config } from './config.js'
import type { Logger } from './logger.js'
import { removeServerInfo, writeServerInfo } from './update/server-info.js'
import { VERSION } from './version.js'

/** A listening server and the address it answers on. */
export interface RunningServer {
  app: FastifyInstance
  url: string
  /** Closes the app (jobs stop or, after an update, stay detached) and removes server.json. */
  close: () => Promise<void>
}

/** Listens on devpilot's terminal port; a derived default port that is taken only warns. */
async function listenTerminalPort (app: FastifyInstance, config: Config, log: Logger): Promise<void> {
  const server = app.terminalPortServer
  if (!server || !config.terminalPort) return
  const { port, explicit } = config.terminalPort
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({ host: config.host, port }, () => {
        server.off('error', reject)
        resolve()
      })
    })
    log.info({ port }, 'terminal port listening')
  } catch (err) {
    if (explicit) {
      await app.close()
      throw new Error(`cannot listen on --terminal-port ${port}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { cause: err })
    }
    log.warn({ port, err }, 'terminal port not available; the terminal stays on /terminal of the main port (--terminal-port 0 silences this)')
  }
}

/** Builds the app and listens on the configured host and port. */
export async function runServer (config: Config, log: Logger, hooks: AppHooks = {}): Promise<RunningServer> {
  const app = await buildApp(config, log, process.env, hooks)
  try {
    await app.listen({ host: config.host, port: config.port })
  } catch (err) {
    await app.close()
    throw err
  }
  // Why: a failed accept (EMFILE, ENFILE, ENOMEM) is an 'error' event of the listening server; it must not stop the process.
  app.server.on('error', (err) => log.error({ err }, 'server failed to accept a connection'))
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : config.port
  const host = config.host.includes(':') ? `[${config.host}]` : config.host
  const url = `${config.tls ? 'https' : 'http'}://${host}:${port}`
  log.info({ url }, 'server listening')
  await listenTerminalPort(app, config, log)
  writeServerInfo(config.stateDir, { pid: process.pid, url, port, version: VERSION, startedAt: Date.now() / 1000 })
  const close = async (): Promise<void> => {
    await app.close()
    removeServerInfo(config.stateDir, process.pid)
  }
  return { app, url, close }
}
