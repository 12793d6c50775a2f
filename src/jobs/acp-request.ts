import { DEFAULT_PERMISSION_POLICY, PERMISSION_POLICIES, type PermissionPolicy, type PermissionPolicyName } from '../acp/permissions.js'
import { parseRulePolicy } from '../acp/rule-policy.js'
import { DEFAULT_AGENT } from '../acp/types.js'
import { Errors } from '../errors.js'
import { isRunnableKind, machineShells, shellKindOf, type ShellAvailability } from '../sessions/shells.js'
import { ShellWordsError, splitShellWords } from '../lib/shell-words.js'
import { isPlainObject } from '../lib/json-values.js'
import { optionalString } from './request-fields.js'
import type { AcpJobSpec } from './types.js'
import { errorMessage } from '../lib/error-message.js'

// Why 'absent': devpilot read these fields with `if not value`, so '' means "not given".
const acpString = (body: Record<string, unknown>, name: string): string | null => optionalString(body, name, 'absent')

/** The ACP fields of a POST /exec body (mode "acp"), checked; throws the API error for the first problem. */
export function parseAcpSpec (body: Record<string, unknown>, shells?: ShellAvailability): AcpJobSpec {
  // Why: devpilot's own checks and messages for the persistent-shell fields come first.
  const key = body.persistent_session_key
  if (key !== undefined && key !== null && typeof key !== 'string') throw new Errors.INVALID_REQUEST('persistent_session_key must be a string')
  const shell = body.persistent_shell
  if (shell !== undefined && shell !== null && typeof shell !== 'string') throw new Errors.INVALID_REQUEST('persistent_shell must be a string')
  let persistentSession: AcpJobSpec['persistentSession'] = null
  if (key) {
    if (!shell) throw new Errors.INVALID_REQUEST('persistent_shell is required')
    persistentSession = persistentSessionOf(key, shell, shells ?? machineShells())
  }

  const agent = acpString(body, 'agent') ?? DEFAULT_AGENT
  try {
    if (splitShellWords(agent).length === 0) throw new Errors.INVALID_REQUEST('agent must name a command')
  } catch (err) {
    if (err instanceof ShellWordsError) throw new Errors.INVALID_REQUEST(`agent: ${err.message}`)
    throw err
  }
  const policy = permissionPolicyOf(body.permissionPolicy)
  const mcpServers = body.mcpServers ?? []
  if (!Array.isArray(mcpServers) || !mcpServers.every((s) => isPlainObject(s) && typeof s.name === 'string')) {
    throw new Errors.INVALID_REQUEST('mcpServers must be an array of MCP server objects, each with a name')
  }
  return {
    agent,
    prompt: acpString(body, 'prompt') ?? '',
    sessionId: acpString(body, 'acp_session_id'),
    model: acpString(body, 'model'),
    effort: acpString(body, 'effort'),
    mode: acpString(body, 'acpMode'),
    permissionPolicy: policy,
    mcpServers,
    ...capabilitiesOf(body.capabilities),
    ...(transcriptOf(body.transcript) ? { transcript: true } : {}),
    ...(persistentSession ? { persistentSession } : {}),
  }
}

// devpilot's shell aliases; a shell that cannot run a session here is refused now, not mid-turn.
function persistentSessionOf (sessionKey: string, shell: string, shells: ShellAvailability): NonNullable<AcpJobSpec['persistentSession']> {
  const kind = shellKindOf(shell)
  if (kind === undefined) throw new Errors.INVALID_REQUEST(`unsupported shell: ${shell}`)
  const shellPath = shells.installed[kind]
  if (shellPath === undefined) {
    throw new Errors.INVALID_REQUEST(shells.present[kind] && !isRunnableKind(kind)
      ? `shell ${kind} is installed but persistent ${kind} sessions are not supported by this version`
      : `shell ${kind} is not installed on this machine`)
  }
  return { sessionKey, shell: kind, shellPath }
}

// A policy name, or rules (`{autoApprove, autoDeny, defaultAction}`, rule-policy.ts).
function permissionPolicyOf (value: unknown): PermissionPolicy {
  if (value === undefined || value === null) return DEFAULT_PERMISSION_POLICY
  if (isPlainObject(value)) {
    try { return parseRulePolicy(value) } catch (err) { throw new Errors.INVALID_REQUEST(errorMessage(err)) }
  }
  if (typeof value !== 'string' || !PERMISSION_POLICIES.includes(value as PermissionPolicyName)) {
    throw new Errors.INVALID_REQUEST(`permissionPolicy must be one of ${PERMISSION_POLICIES.join(', ')}`)
  }
  return value as PermissionPolicyName
}

// `capabilities: {fs, terminal}`: booleans, kept as given (absent: both on).
function capabilitiesOf (value: unknown): Pick<AcpJobSpec, 'capabilities'> {
  if (value === undefined || value === null) return {}
  if (!isPlainObject(value)) throw new Errors.INVALID_REQUEST('capabilities must be an object like {"fs": false, "terminal": false}')
  const capabilities: NonNullable<AcpJobSpec['capabilities']> = {}
  for (const [name, on] of Object.entries(value)) {
    if (name !== 'fs' && name !== 'terminal') throw new Errors.INVALID_REQUEST(`capabilities has an unknown field ${JSON.stringify(name)} (fields: fs, terminal)`)
    if (typeof on !== 'boolean') throw new Errors.INVALID_REQUEST(`capabilities.${name} must be a boolean`)
    capabilities[name] = on
  }
  return { capabilities }
}

function transcriptOf (value: unknown): boolean {
  if (value === undefined || value === null) return false
  if (typeof value !== 'boolean') throw new Errors.INVALID_REQUEST('transcript must be a boolean')
  return value
}
