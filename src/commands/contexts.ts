import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { errorMessage } from '../lib/error-message.js'

/** One saved server: where it is and its key. */
export interface SavedContext {
  url: string
  key: string
}

/** The credentials file: saved contexts and the one in use. */
export interface ContextFile {
  current?: string | undefined
  contexts: Record<string, SavedContext>
}

/** `AGENT_RUNTIME_CONFIG`, else `~/.config/agent-runtime/credentials.json`. */
export function contextFilePath (env: NodeJS.ProcessEnv): string {
  return env.AGENT_RUNTIME_CONFIG || join(homedir(), '.config', 'agent-runtime', 'credentials.json')
}

/** The saved contexts (none when the file does not exist). A damaged file is an error that names it. */
export function readContexts (env: NodeJS.ProcessEnv): ContextFile {
  const path = contextFilePath(env)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { contexts: {} }
    throw err
  }
  try {
    const parsed = JSON.parse(text) as ContextFile
    if (typeof parsed !== 'object' || parsed === null || typeof parsed.contexts !== 'object' || parsed.contexts === null) throw new Error('no "contexts" object')
    return parsed
  } catch (err) {
    throw new Error(`${path} is not a credentials file: ${errorMessage(err)}`)
  }
}

/** Saves the contexts atomically, mode 0600 in a 0700 directory (the file holds keys). */
export function writeContexts (env: NodeJS.ProcessEnv, file: ContextFile): void {
  const path = contextFilePath(env)
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 })
  const tmp = `${path}.${process.pid}.tmp`
  writeFileSync(tmp, JSON.stringify(file, null, 2) + '\n', { mode: 0o600 })
  renameSync(tmp, path)
}

/** The context in use, with its name, if there is one. */
export function currentContext (env: NodeJS.ProcessEnv): (SavedContext & { name: string }) | undefined {
  const file = readContexts(env)
  const saved = file.current === undefined ? undefined : file.contexts[file.current]
  return saved && file.current !== undefined ? { name: file.current, ...saved } : undefined
}
