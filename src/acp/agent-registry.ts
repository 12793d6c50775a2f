import { basename } from 'node:path'
import { splitShellWords } from '../lib/shell-words.js'
import { errorMessage } from '../lib/error-message.js'

/** Whether an agent sends `session/request_permission` before it acts (measured, docs/api.md §20). */
export type AgentAsks = 'yes' | 'never' | 'not-for-writes'

/** An agent this server knows by name: its command line and what it needs. */
export interface KnownAgent {
  name: string
  /** The command line `agent: "<name>"` runs (overridable with `--acp-agents`). */
  command: string
  asks: AgentAsks
  /** Command words (basename, without an npm `@version`) and agentInfo names that identify it. */
  ids: readonly string[]
  /** Added to the agent's environment when the server runs as root. */
  rootEnv?: Readonly<Record<string, string>>
}

/** The agents known by name; an agent with `asks` other than `yes` cannot be held to a policy. */
export const KNOWN_AGENTS: readonly KnownAgent[] = [
  { name: 'copilot', command: 'copilot --acp --stdio', asks: 'yes', ids: ['copilot', '@github/copilot', 'copilot-cli'] },
  {
    name: 'claude',
    command: 'claude-agent-acp',
    asks: 'yes',
    ids: ['claude-agent-acp', 'claude-code-acp', '@agentclientprotocol/claude-agent-acp', '@zed-industries/claude-agent-acp', '@zed-industries/claude-code-acp'],
    // Why: Claude Code refuses to skip its own permission prompts as root unless it is told it runs in a sandbox.
    rootEnv: { IS_SANDBOX: '1' },
  },
  { name: 'gemini', command: 'gemini --acp', asks: 'yes', ids: ['gemini', 'gemini-cli', '@google/gemini-cli'] },
  { name: 'codex', command: 'codex-acp', asks: 'never', ids: ['codex-acp', '@zed-industries/codex-acp'] },
  { name: 'opencode', command: 'opencode acp', asks: 'never', ids: ['opencode', 'opencode-ai'] },
  { name: 'qwen', command: 'qwen --acp', asks: 'not-for-writes', ids: ['qwen', 'qwen-code', '@qwen-code/qwen-code'] },
]

/** How to start an agent: its argv, what its environment needs, and which known agent it is. */
export interface AgentLaunch {
  argv: string[]
  env: Record<string, string>
  known: KnownAgent | undefined
}

// A command word as an id: its basename without an npm version (`@scope/pkg@1.2` → `@scope/pkg`).
function idOf (word: string): string {
  const bare = word.startsWith('@') ? word : basename(word)
  return bare.replace(/(?<=.)@[^/]*$/, '').toLowerCase()
}

/** The known agent a command line (or an agentInfo name) is, if any. */
export function knownAgentOf (argv: readonly string[], agentInfoName?: string | null): KnownAgent | undefined {
  const words = argv.map(idOf)
  const info = agentInfoName?.toLowerCase()
  return KNOWN_AGENTS.find((a) => a.ids.some((id) => words.includes(id) || id === info))
}

/**
 * Resolves `agent`: a single word naming a known agent (or one of `overrides`, which win) is its
 * command line; anything else is a command line as given. Known needs are added (claude as root:
 * `IS_SANDBOX=1`).
 */
export function resolveAgent (agent: string | readonly string[], overrides: Readonly<Record<string, string>> = {}, isRoot = process.getuid?.() === 0): AgentLaunch {
  let argv: string[]
  if (typeof agent === 'string') {
    const name = agent.trim().toLowerCase()
    const command = Object.hasOwn(overrides, name) ? overrides[name] as string : KNOWN_AGENTS.find((a) => a.name === name)?.command ?? agent
    argv = splitShellWords(command)
  } else {
    argv = [...agent]
  }
  const known = knownAgentOf(argv)
  return { argv, env: isRoot && known?.rootEnv ? { ...known.rootEnv } : {}, known }
}

/** Checks a `--acp-agents` value: a JSON object of names to non-empty command lines. */
export function parseAgentOverrides (raw: string): Record<string, string> {
  let value: unknown
  try { value = JSON.parse(raw) } catch { throw new Error('must be a JSON object of agent names to command lines') }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('must be a JSON object of agent names to command lines')
  const agents: Record<string, string> = {}
  for (const [name, command] of Object.entries(value)) {
    const problem = `the command of agent ${JSON.stringify(name)} must be a non-empty command line`
    let words: string[]
    try { words = typeof command === 'string' ? splitShellWords(command) : [] } catch (err) { throw new Error(`${problem} (${errorMessage(err)})`) }
    if (words.length === 0) throw new Error(problem)
    agents[name.trim().toLowerCase()] = command as string
  }
  return agents
}
