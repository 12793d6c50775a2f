import { knownAgentOf, type AgentLaunch, type KnownAgent } from './agent-registry.js'
import { DEFAULT_PERMISSION_POLICY, policyLabel, type PermissionPolicy } from './permissions.js'
import type { SessionSettings } from './session-settings.js'

// Mode ids (lower case, `-`/`_`/space dropped) of modes in which agents act without asking:
// claude auto/acceptEdits/dontAsk/bypassPermissions, gemini autoEdit/yolo, codex auto/full-access, qwen auto-edit/yolo.
const AUTO_APPROVING: ReadonlySet<string> = new Set([
  'auto', 'autoedit', 'acceptedits', 'dontask', 'bypasspermissions', 'yolo', 'fullaccess', 'allowall', 'autoapprove', 'agentfullaccess',
])
// Modes that ask before acting, best first; a mode in neither list (other than `plan`) is the last resort.
const ASKING: readonly string[] = ['default', 'ask', 'manual', 'normal', 'readonly']

const normal = (id: string): string => id.toLowerCase().replace(/[-_\s]/g, '')

/** True for a mode id in which known agents approve their own tool calls. */
export const isAutoApprovingMode = (id: string): boolean => AUTO_APPROVING.has(normal(id))

/** The session's mode and the modes it offers: the `mode` config option, else the legacy `modes`. */
export function sessionModes (session: SessionSettings): { current: string | null, available: string[] } | null {
  const option = session.configOptions?.find((o) => o.type === 'select' && (o.category === 'mode' || o.id === 'mode'))
  if (option && option.type === 'select') {
    const available = option.options.flatMap((o) => 'group' in o ? o.options.map((g) => g.value) : [o.value])
    return { current: typeof option.currentValue === 'string' ? option.currentValue : null, available }
  }
  if (session.modes) return { current: session.modes.currentModeId, available: session.modes.availableModes.map((m) => m.id) }
  return null
}

/** One event the mode choice records. */
export interface ModePolicyEvent {
  type: 'permission_mode' | 'warning'
  data: Record<string, unknown>
}

/** What to do about the session mode so that the permission policy holds. */
export interface ModePlan {
  /** The mode to set (null: leave it as it is). */
  mode: string | null
  events: ModePolicyEvent[]
}

function notEnforceable (policy: string, agent: string, message: string, mode: string | null): ModePolicyEvent {
  return { type: 'warning', data: { code: 'policy_not_enforceable', policy, agent, mode, message } }
}

/**
 * Chooses the session mode under a policy other than `allow-all`: a requested mode wins (with a
 * warning when it approves by itself); else an auto-approving current mode is replaced by an
 * asking one the agent offers (`default` first). Agents known never to ask, and sessions left in
 * an auto-approving mode, get a `policy_not_enforceable` warning.
 */
export function planPermissionMode (input: {
  policy: PermissionPolicy
  requested: string | null | undefined
  session: SessionSettings
  agent: KnownAgent | undefined
  agentName: string
}): ModePlan {
  const { requested, agent, agentName } = input
  const policy = policyLabel(input.policy)
  if (policy === 'allow-all') return { mode: null, events: [] }
  const events: ModePolicyEvent[] = []
  if (agent?.asks === 'never') {
    events.push(notEnforceable(policy, agentName, `${agent.name} never asks permission before it acts (measured); the ${policy} policy cannot be enforced: its tool calls, edits and commands run unchecked`, requested ?? null))
  } else if (agent?.asks === 'not-for-writes') {
    events.push(notEnforceable(policy, agentName, `${agent.name} writes files without asking permission (measured); the ${policy} policy cannot be enforced for its writes`, requested ?? null))
  }
  if (requested) {
    if (isAutoApprovingMode(requested)) {
      events.push({ type: 'warning', data: { setting: 'mode', value: requested, code: 'auto_approving_mode', message: `mode ${JSON.stringify(requested)} lets the agent act without asking; the ${policy} policy only sees what it still asks` } })
    }
    return { mode: null, events }
  }
  const modes = sessionModes(input.session)
  if (modes === null || modes.current === null) return { mode: null, events }
  const { current, available } = modes
  if (!isAutoApprovingMode(current)) {
    events.push({ type: 'permission_mode', data: { modeId: current, previousModeId: current, changed: false, reason: `mode ${JSON.stringify(current)} is not known to approve by itself; the ${policy} policy answers the agent's requests` } })
    return { mode: null, events }
  }
  const asking = ASKING.map((id) => available.find((a) => normal(a) === id)).find((id) => id !== undefined) ??
    available.find((id) => !isAutoApprovingMode(id) && normal(id) !== 'plan')
  if (asking === undefined) {
    events.push(notEnforceable(policy, agentName, `the agent starts in mode ${JSON.stringify(current)}, which approves by itself, and offers no mode that asks (it offers: ${available.join(', ')}); the ${policy} policy cannot be enforced`, current))
    return { mode: null, events }
  }
  events.push({ type: 'permission_mode', data: { modeId: asking, previousModeId: current, changed: true, reason: `mode ${JSON.stringify(current)} approves by itself; mode ${JSON.stringify(asking)} asks, so the ${policy} policy holds` } })
  return { mode: asking, events }
}

/**
 * The plan for a session just opened by the agent `launch` started (named by its `initialize`
 * answer when it gives one): `planPermissionMode` under the wanted policy, or the default one.
 */
export function planForSession (launch: AgentLaunch, agentInfoName: string | undefined, session: SessionSettings, wanted: { permissionPolicy?: PermissionPolicy | undefined, mode?: string | null | undefined }): ModePlan & { agentName: string } {
  const agentName = agentInfoName ?? launch.known?.name ?? launch.argv[0] ?? 'the agent'
  const plan = planPermissionMode({
    policy: wanted.permissionPolicy ?? DEFAULT_PERMISSION_POLICY,
    requested: wanted.mode,
    session,
    agent: launch.known ?? knownAgentOf([], agentInfoName),
    agentName,
  })
  return { ...plan, agentName }
}
