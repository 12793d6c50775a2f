import type { ToolCallUpdate } from '@agentclientprotocol/sdk'

/** The tool kinds of the ACP schema; a rule naming one of them matches the kind, any other word a tool name. */
export const TOOL_KINDS: readonly string[] = ['read', 'edit', 'delete', 'move', 'search', 'execute', 'think', 'fetch', 'switch_mode', 'other']

/** What a rule policy does with a call no rule matches. */
export type RuleAction = 'allow' | 'deny' | 'ask'

/**
 * A permission policy of rules (like acpx's): `autoDeny` first, then `autoApprove`, then
 * `defaultAction`. Each rule is a tool kind (`read`, `execute`, …), a tool name (`Bash`,
 * `WebFetch`, case-insensitive; a trailing `*` matches a prefix) or `*`.
 */
export interface RulePolicy {
  autoApprove: string[]
  autoDeny: string[]
  defaultAction: RuleAction
}

const RULE_ACTIONS: readonly RuleAction[] = ['allow', 'deny', 'ask']
const POLICY_KEYS = new Set(['autoApprove', 'autoDeny', 'defaultAction'])

/** Checks a rule policy from a request; throws an Error whose message says what is wrong. */
export function parseRulePolicy (value: Record<string, unknown>): RulePolicy {
  const unknown = Object.keys(value).find((k) => !POLICY_KEYS.has(k))
  if (unknown !== undefined) throw new Error(`permissionPolicy has an unknown field ${JSON.stringify(unknown)} (fields: autoApprove, autoDeny, defaultAction)`)
  const list = (name: 'autoApprove' | 'autoDeny'): string[] => {
    const rules = value[name] ?? []
    if (!Array.isArray(rules) || !rules.every((r) => typeof r === 'string' && r.trim() !== '')) {
      throw new Error(`permissionPolicy.${name} must be an array of tool kinds or tool names`)
    }
    return rules.map((r: string) => r.trim())
  }
  const defaultAction = value.defaultAction ?? 'deny'
  if (typeof defaultAction !== 'string' || !RULE_ACTIONS.includes(defaultAction as RuleAction)) {
    throw new Error(`permissionPolicy.defaultAction must be one of ${RULE_ACTIONS.join(', ')}`)
  }
  return { autoApprove: list('autoApprove'), autoDeny: list('autoDeny'), defaultAction: defaultAction as RuleAction }
}

// The names a tool call goes by: its title, the title's first word or part before ":" / "(", and
// the tool name some agents put in _meta (claude: `_meta.claudeCode.toolName`).
function toolNames (toolCall: Pick<ToolCallUpdate, 'title' | '_meta'>): string[] {
  const names: string[] = []
  const title = toolCall.title?.trim()
  if (title) {
    names.push(title, title.split(/[\s:(]/, 1)[0] as string)
  }
  const meta = toolCall._meta as Record<string, { toolName?: unknown } | undefined> | null | undefined
  for (const value of Object.values(meta ?? {})) {
    if (typeof value?.toolName === 'string') names.push(value.toolName)
  }
  return names.map((n) => n.toLowerCase())
}

function ruleMatches (rule: string, kind: string, names: readonly string[]): boolean {
  if (rule === '*') return true
  if (TOOL_KINDS.includes(rule)) return rule === kind
  const wanted = rule.toLowerCase()
  if (wanted.endsWith('*')) return names.some((n) => n.startsWith(wanted.slice(0, -1)))
  return names.includes(wanted)
}

/** The first rule of `rules` the call matches, if any. */
function firstMatch (rules: readonly string[], kind: string, names: readonly string[]): string | undefined {
  return rules.find((rule) => ruleMatches(rule, kind, names))
}

/** What the rules alone say about a tool call (the workdir path checks come on top: `judgeToolCall`). */
export function applyRules (policy: RulePolicy, toolCall: Pick<ToolCallUpdate, 'kind' | 'title' | '_meta'>): { action: RuleAction, reason: string } {
  const kind: string = toolCall.kind ?? 'other'
  const names = toolNames(toolCall)
  const denied = firstMatch(policy.autoDeny, kind, names)
  if (denied !== undefined) return { action: 'deny', reason: `rule autoDeny ${JSON.stringify(denied)}` }
  const approved = firstMatch(policy.autoApprove, kind, names)
  if (approved !== undefined) return { action: 'allow', reason: `rule autoApprove ${JSON.stringify(approved)}` }
  return { action: policy.defaultAction, reason: `no rule matches kind ${kind}; defaultAction ${policy.defaultAction}` }
}
