import type { FastifyInstance } from 'fastify'
import { buildApp } from './app.js'
import type { Config } from './config.js'
import type { Logger } from './logger.js'

/** A listening server and the address it answers on. */
export interface RunningServer {
  app: FastifyInstance
  url: string
}

/** Builds the app and listens on the configured host and port. */
export async function runServer (config: Config, log: Logger): Promise<RunningServer> {
  const app = await buildApp(config, log)
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
  return { app, url }
}
