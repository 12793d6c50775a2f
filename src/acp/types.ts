import type { McpServer, PermissionOption, ToolCallUpdate } from '@agentclientprotocol/sdk'
import type { CapabilitySwitches } from './capabilities.js'
import type { PermissionPolicy } from './permissions.js'
import type { MessageSender } from './stream-tap.js'

// Why here: request parsing needs it without loading the ACP SDK (run-session.ts) at start-up.
/** The agent command a job runs when it names none. */
export const DEFAULT_AGENT = 'copilot --acp --stdio'

/**
 * One thing that happened in an ACP run, in devpilot's shape. `type` is e.g. `message`, `thought`,
 * `tool_call`, `tool_call_update`, `plan`, `replay`, `permission_request`, `permission`,
 * `file_read`, `file_write`, `terminal_run`, `terminal_exit`, `cancel`, `stop`, `error`
 * (docs/api.md lists them all). `timestamp` is epoch seconds.
 */
export interface AcpEvent {
  type: string
  timestamp: number
  data: Record<string, unknown>
}

/** A tool call as the agent last described it (created and updated by `toolCallId`). */
export type ToolCallState = ToolCallUpdate & { title?: string | null }

/** A permission request waiting for a person (policy `ask`). */
export interface PendingPermission {
  requestId: string
  toolCall: ToolCallState
  options: PermissionOption[]
  /** Aborts when the request no longer waits (answered, deadline, turn cancelled). */
  signal: AbortSignal
}

/** Options of `runAcpSession`. */
/** A terminal command started in a persistent shell session (ACP `persistent_session_key`). */
export interface SessionTerminalRun {
  /** The file the command's stdout and stderr are appended to, merged. */
  outputPath: string
  /** Settles when the command has ended (exitCode null when it has no status). */
  ended: Promise<{ exitCode: number | null, signal: string | null }>
  /** Interrupts the command (SIGINT, SIGTERM, SIGKILL), keeping the session; resolves once it ended. */
  kill: () => Promise<void>
}

/** Runs the agent's terminal commands in one named persistent shell session, one after another. */
export interface SessionTerminalRunner {
  /** Queues `commandLine` in the session; throws when the session cannot take it (limit, shell mismatch). */
  start: (terminalId: string, commandLine: string) => SessionTerminalRun
}

export interface RunAcpOptions {
  /**
   * The agent: a known name (`copilot`, `claude`, `gemini`, `codex`, `opencode`, `qwen`, or one of
   * `agents`), or its command line, split shell-style (or already split). Default `copilot --acp --stdio`.
   */
  agent?: string | readonly string[]
  /** Agent names to command lines, over the built-in table (`--acp-agents`). */
  agents?: Readonly<Record<string, string>>
  /** Client services offered to the agent; `false` ones are neither advertised nor served. Default both on. */
  capabilities?: CapabilitySwitches
  /** The prompt text; empty or absent: only create or load the session (stop reason `no_prompt`). */
  prompt?: string | null
  /** The agent's cwd and the root that files, terminals and the `workdir` policy are confined to. */
  workdir?: string
  /** Added to the server's environment (minus its secrets) for the agent and its terminals. */
  env?: Readonly<Record<string, string>>
  /** Load this session (`session/load`) instead of creating one. */
  sessionId?: string | null
  model?: string | null
  effort?: string | null
  /** The agent's session mode id (e.g. `plan`). */
  mode?: string | null
  mcpServers?: McpServer[]
  permissionPolicy?: PermissionPolicy
  /** Policy `ask`: called for each request; resolve with an option id, or null to reject. */
  onPermissionRequest?: (request: PendingPermission) => Promise<string | null>
  /** Policy `ask`: how long a request waits for an answer before it is rejected. Default 5 min. */
  permissionTimeoutMs?: number
  /** Whole run, 0 = none. */
  timeoutMs?: number
  /** Longest time without any update or request from the agent, 0 = none. */
  idleTimeoutMs?: number
  /** After `session/cancel`, how long the agent has to stop before its process group is killed. Default 5 s. */
  cancelGraceMs?: number
  /** Aborting cancels the turn (session/cancel, grace, kill); the result keeps what was collected. */
  signal?: AbortSignal
  /** Called for every event as it happens. */
  onEvent?: (event: AcpEvent) => void
  /** Called with every JSON-RPC message in both directions, as sent (the job's `transcript`). */
  onTranscript?: (from: MessageSender, message: unknown) => void
  /** Called with every chunk the agent writes to stderr. */
  onStderr?: (chunk: Buffer) => void
  /** Called once the agent process has started. */
  onSpawn?: (pid: number) => void
  /** Called once the session id is known. */
  onSession?: (sessionId: string) => void
  /** Called at once (before the agent starts) with a view of the run's live state, read from its recorder. */
  onLive?: (live: AcpLiveView) => void
  /** Run `terminal/create` commands in this persistent shell session instead of separate processes. */
  sessionTerminals?: SessionTerminalRunner
  /** How many of the latest events the result keeps. Default 2000. */
  maxEvents?: number
}

/** What a run has collected so far, read live (each read is a fresh copy). */
export interface AcpLiveView {
  readonly sessionId: string | null
  /** The tool calls in the order they first appeared, each in its latest state. */
  readonly toolCalls: ToolCallState[]
  /** The agent's message text so far (replayed history excluded). */
  readonly outputText: string
}

/** What an ACP run produced; `error` is set when it did not end with the agent's stop reason. */
export interface AcpResult {
  sessionId: string | null
  /** The agent's message text (`agent_message_chunk` text blocks; replayed history excluded). */
  outputText: string
  toolCalls: ToolCallState[]
  events: AcpEvent[]
  /** The agent's stop reason (any string it sends), or `no_prompt`, `timeout`, `cancelled`, `error`, `unknown`. */
  stopReason: string
  /** The end of the agent's stderr. */
  stderr: string
  /** The prompt response's `usage` (token counts), when the agent sent one. */
  usage?: Record<string, unknown> | null
  error: string | null
  /** Which limit ended the run, if one did. */
  timeout: 'total' | 'idle' | null
  /** True when the run was ended through `signal`. */
  aborted: boolean
}
