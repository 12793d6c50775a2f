import { hash, randomBytes, timingSafeEqual } from 'node:crypto'
import { chmodSync, mkdirSync, readFileSync, renameSync, watch, writeFileSync, type FSWatcher } from 'node:fs'
import { join } from 'node:path'
import { KEY_ENV_VARS } from '../lib/secret-env.js'
import type { Logger } from '../logger.js'

// The key's file in the state directory.
export const KEY_FILE_NAME = 'api-key'

export type KeySource = 'env' | 'file' | 'generated'

/** Creates the state directory (mode 0700) if needed and tightens its mode. */
export function ensureStateDir (stateDir: string): void {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 })
  chmodSync(stateDir, 0o700)
}

/** The key the environment provides, if any. */
export function keyFromEnv (env: NodeJS.ProcessEnv): string | undefined {
  for (const name of KEY_ENV_VARS) {
    const value = env[name]?.trim()
    if (value) return value
  }
  return undefined
}

/** The key in `<stateDir>/api-key`, trimmed; undefined when the file is missing or empty. Other read errors are thrown. */
export function readKeyFile (stateDir: string): string | undefined {
  try {
    return readFileSync(join(stateDir, KEY_FILE_NAME), 'utf8').trim() || undefined
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

/** Writes a new random key (32 bytes, base64url) to the key file with mode 0600 and returns it. */
export function writeNewKey (stateDir: string): string {
  ensureStateDir(stateDir)
  const key = randomBytes(32).toString('base64url')
  const path = join(stateDir, KEY_FILE_NAME)
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, key, { mode: 0o600 })
  chmodSync(tmp, 0o600)
  renameSync(tmp, path)
  return key
}

/** Finds the key: environment, else the key file, else a newly generated one saved to the file. */
export function resolveKey (stateDir: string, env: NodeJS.ProcessEnv): { key: string, source: KeySource } {
  const fromEnv = keyFromEnv(env)
  if (fromEnv) return { key: fromEnv, source: 'env' }
  ensureStateDir(stateDir)
  const fromFile = readKeyFile(stateDir)
  if (fromFile) {
    chmodSync(join(stateDir, KEY_FILE_NAME), 0o600)
    return { key: fromFile, source: 'file' }
  }
  return { key: writeNewKey(stateDir), source: 'generated' }
}

// Why the one-shot hash: it is checked on every request; it makes no hash object.
const digest = (value: string): Buffer => hash('sha256', value, 'buffer')

// Holds the API key, compares candidates in constant time and follows `key rotate`.
export class KeyStore {
  #digest: Buffer
  #watcher: FSWatcher | undefined

  constructor (stateDir: string, env: NodeJS.ProcessEnv, log: Logger) {
    const { key, source } = resolveKey(stateDir, env)
    this.#digest = digest(key)
    if (source !== 'env') this.#watcher = this.#watchFile(stateDir, log)
  }

  /** True when the candidate equals the key; the comparison time does not depend on where they differ. */
  verify (candidate: string | undefined): boolean {
    if (!candidate) return false
    return timingSafeEqual(digest(candidate), this.#digest)
  }

  // Why: `agent-server key rotate` replaces the file; running servers must accept the new key at once.
  #watchFile (stateDir: string, log: Logger): FSWatcher {
    const watcher = watch(stateDir, { persistent: false }, (_event, name) => {
      if (name !== KEY_FILE_NAME) return
      try {
        const key = readKeyFile(stateDir)
        if (key && !timingSafeEqual(digest(key), this.#digest)) {
          this.#digest = digest(key)
          log.info('api key reloaded from file')
        }
      } catch (err) {
        log.warn({ err }, 'cannot reload api key file')
      }
    })
    watcher.on('error', (err) => log.warn({ err }, 'api key watcher failed'))
    return watcher
  }

  close (): void {
    this.#watcher?.close()
    this.#watcher = undefined
  }
}
