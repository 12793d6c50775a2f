import { fileURLToPath } from 'node:url'
import { processesMatching } from './processes.js'
import { waitFor } from './wait.js'

/** The SDK 1.9.0 example agent (a scripted turn of about 5 s with one permission request). */
export const EXAMPLE_AGENT = fileURLToPath(new URL('../../node_modules/acp-sdk-v1/dist/examples/agent.js', import.meta.url))
/** Our fake agent on the SDK's agent API; its prompt is a JSON script of steps. */
export const SCRIPTED_AGENT = fileURLToPath(new URL('../fixtures/acp/scripted-agent.mjs', import.meta.url))
/** A raw NDJSON agent that misbehaves per scenario. */
export const MISBEHAVING_AGENT = fileURLToPath(new URL('../fixtures/acp/misbehaving-agent.mjs', import.meta.url))

/** A unique word to put on an agent's command line, so that its processes can be found. */
export const marker = (): string => `1000.${Math.floor(Math.random() * 1e9)}`

/** The command (argv) of an agent script, tagged with a marker. */
export const agentArgv = (script: string, ...args: string[]): string[] => [process.execPath, script, ...args]

/** Fails unless no process with `text` on its command line is left (after a short wait for exits). */
export async function assertNoProcesses (text: string): Promise<void> {
  await waitFor(() => processesMatching(text).length === 0, `processes matching ${text} to be gone`, 5000)
}
