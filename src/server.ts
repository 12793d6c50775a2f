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

/** Builds the app and listens on the configured host and port. */
export async function runServer (config: Config, log: Logger, hooks: AppHooks = {}): Promise<RunningServer> {
  const app = await buildApp(config, log, process.env, hooks)
  try {
    await app.listen({ host: config.host, port: config.port })
  } catch (err) {
    await app.close()
    throw err
  }
  const address = app.server.address()
  const port = typeof address === 'object' && address !== null ? address.port : config.port
  const host = config.host.includes(':') ? `[${config.host}]` : config.host
  const url = `${config.tls ? 'https' : 'http'}://${host}:${port}`
  log.info({ url }, 'server listening')
  writeServerInfo(config.stateDir, { pid: process.pid, url, port, version: VERSION, startedAt: Date.now() / 1000 })
  const close = async (): Promise<void> => {
    await app.close()
    removeServerInfo(config.stateDir, process.pid)
  }
  return { app, url, close }
}
