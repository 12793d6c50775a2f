// The body of POST /exec, for the document and the client's types. The server checks bodies with
// jobs/exec-request.ts, in devpilot's order and with its messages (docs/api.md §4, §20).
import type { FromSchema } from 'json-schema-to-ts'

const COMMON = {
  workdir: { type: 'string', description: 'default: the server\'s cwd' },
  timeout: { type: ['number', 'null'], minimum: 0, description: 'seconds; 0 or null: none (default 300)' },
  idleTimeout: { type: 'number', minimum: 0, description: 'seconds without output before the job ends as timeout; 0: off' },
  env: { type: ['object', 'null'], additionalProperties: { type: 'string' } },
} as const

/** POST /exec in shell mode. */
export const ShellJobRequestSchema = {
  title: 'ShellJobRequest',
  type: 'object',
  properties: {
    mode: { const: 'shell' },
    command: { type: 'string' },
    ...COMMON,
    stdin: { type: 'string' },
    stdinEof: { type: 'boolean' },
    shell: { type: 'string', description: 'default /bin/sh' },
    tty: { type: 'boolean', description: 'run on a terminal (PTY): stdout and stderr merged into stdout' },
    cols: { type: 'integer', minimum: 10, maximum: 500, description: 'with tty: window width (default 80)' },
    rows: { type: 'integer', minimum: 2, maximum: 200, description: 'with tty: window height (default 24)' },
  },
  required: ['command'],
  additionalProperties: false,
} as const

/** POST /exec in ACP mode. */
export const AcpJobRequestSchema = {
  title: 'AcpJobRequest',
  type: 'object',
  properties: {
    mode: { const: 'acp' },
    prompt: { type: 'string' },
    agent: { type: 'string', description: 'a known agent (copilot, claude, gemini, codex, opencode, qwen, or a --acp-agents name) or the agent\'s command line; default copilot --acp --stdio' },
    ...COMMON,
    acp_session_id: { type: 'string' },
    model: { type: 'string' },
    effort: { type: 'string' },
    acpMode: { type: 'string' },
    permissionPolicy: {
      oneOf: [
        { enum: ['deny', 'read-only', 'workdir', 'allow-all', 'ask'] },
        {
          type: 'object',
          description: 'rules: autoDeny, then autoApprove, then defaultAction (default deny); paths outside the workdir are always rejected',
          properties: {
            autoApprove: { type: 'array', items: { type: 'string' }, description: 'tool kinds (read, edit, execute, …) or tool names (Bash, Read*, *)' },
            autoDeny: { type: 'array', items: { type: 'string' } },
            defaultAction: { enum: ['allow', 'deny', 'ask'] },
          },
          additionalProperties: false,
        },
      ],
    },
    capabilities: {
      type: 'object',
      description: 'client services offered to the agent; false: not advertised, and refused (-32601)',
      properties: { fs: { type: 'boolean' }, terminal: { type: 'boolean' } },
      additionalProperties: false,
    },
    transcript: { type: 'boolean', description: 'write every JSON-RPC message to the job\'s acp.ndjson (GET /jobs/:id/transcript)' },
    mcpServers: { type: 'array', items: { type: 'object', additionalProperties: true } },
    persistent_session_key: { type: 'string' },
    persistent_shell: { type: 'string' },
  },
  required: ['mode'],
  additionalProperties: false,
} as const

/** POST /exec in persistent-shell mode: one command in a named session (devpilot's fields). */
export const SessionJobRequestSchema = {
  title: 'SessionJobRequest',
  type: 'object',
  properties: {
    mode: { const: 'persistent_shell' },
    sessionKey: { type: 'string' },
    command: { type: 'string' },
    shell: { type: 'string', description: 'bash, zsh, sh (dash), or devpilot\'s aliases; default bash' },
    bootstrapCommand: { type: 'string', description: 'run before the first command and after every shell restart' },
    bootstrapCurrentCommand: { type: 'boolean' },
    ...COMMON,
  },
  required: ['mode', 'sessionKey', 'command'],
  additionalProperties: false,
} as const

/** The body of POST /exec: a shell job, an ACP job or a command in a persistent session. */
export const ExecBodySchema = { oneOf: [ShellJobRequestSchema, AcpJobRequestSchema, SessionJobRequestSchema] } as const

/** A shell job to submit. */
export type ShellJobRequest = FromSchema<typeof ShellJobRequestSchema>
/** An ACP job to submit (`mode: 'acp'` is added by the client). */
export type AcpJobRequest = Omit<FromSchema<typeof AcpJobRequestSchema>, 'mode'>
/** A command for a persistent session (`mode: 'persistent_shell'` is added by the client). */
export type SessionJobRequest = Omit<FromSchema<typeof SessionJobRequestSchema>, 'mode'>
