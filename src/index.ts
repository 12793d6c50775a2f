// The package's public API: the server builder and the typed client.
export { buildApp } from './app.js'
export { runServer, type RunningServer } from './server.js'
export { loadConfig, DEFAULTS, ConfigError, type Config } from './config.js'
export { createLogger } from './logger.js'
export { RuntimeClient, RuntimeError } from './client/index.js'
export type * from './client/types.js'
