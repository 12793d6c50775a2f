import type { PermissionOption, RequestPermissionOutcome, ToolCallUpdate } from '@agentclientprotocol/sdk'
import type { Sandbox } from './paths.js'

/** How an ACP run answers the agent's permission requests (API.md §9). */
export type PermissionPolicy = 'deny' | 'read-only' | 'workdir' | 'allow-all' | 'ask'

export const PERMISSION_POLICIES: readonly PermissionPolicy[] = ['deny', 'read-only', 'workdir', 'allow-all', 'ask']
export const DEFAULT_PERMISSION_POLICY: PermissionPolicy = 'workdir'

/** What a policy makes of one request: an answer now, or a question for a person. */
export interface PolicyVerdict {
  verdict: 'allow' | 'reject' | 'ask'
  reason: string
}

// Tool kinds that only look: read-only allows them.
const LOOKING_KINDS: ReadonlySet<string> = new Set(['read', 'search', 'think', 'fetch'])
// Tool kinds that change files: workdir allows them when every path they name is inside it.
const FILE_CHANGING_KINDS: ReadonlySet<string> = new Set(['edit', 'delete', 'move'])
// Keys of `rawInput` that agents use for paths (all of them are checked, not just the first).
const PATH_KEYS: readonly string[] = [
  'path', 'paths', 'file', 'files', 'filepath', 'filePath', 'file_path', 'filename', 'target', 'target_file',
  'source', 'destination', 'dest', 'from', 'to', 'old_path', 'new_path', 'oldPath', 'newPath', 'dir', 'directory', 'cwd',
]

/** Every path a tool call names: `locations`, diff contents and the path-like keys of `rawInput`. */
export function toolCallPaths (toolCall: Pick<ToolCallUpdate, 'locations' | 'content' | 'rawInput'>): string[] {
  const paths: string[] = []
  for (const location of toolCall.locations ?? []) paths.push(location.path)
  for (const item of toolCall.content ?? []) if (item.type === 'diff') paths.push(item.path)
  const input = toolCall.rawInput
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) {
    for (const key of PATH_KEYS) {
      const value = (input as Record<string, unknown>)[key]
      const values = Array.isArray(value) ? value : [value]
      for (const v of values) if (typeof v === 'string' && v !== '') paths.push(v)
    }
  }
  return paths
}

/** Applies a policy to a tool call: allow, reject, or ask (policy `ask` only). */
export function judgeToolCall (policy: PermissionPolicy, toolCall: ToolCallUpdate, sandbox: Sandbox): PolicyVerdict {
  const kind = toolCall.kind ?? 'other'
  switch (policy) {
    case 'allow-all': return { verdict: 'allow', reason: 'policy allow-all' }
    case 'deny': return { verdict: 'reject', reason: 'policy deny' }
    case 'ask': return { verdict: 'ask', reason: 'policy ask' }
    case 'read-only':
    case 'workdir': {
      if (LOOKING_KINDS.has(kind)) return { verdict: 'allow', reason: `kind ${kind} only looks` }
      if (policy === 'read-only' || !FILE_CHANGING_KINDS.has(kind)) {
        return { verdict: 'reject', reason: `policy ${policy} does not allow kind ${kind}` }
      }
      const paths = toolCallPaths(toolCall)
      if (paths.length === 0) return { verdict: 'reject', reason: `kind ${kind} names no path to check` }
      const outside = paths.find((p) => !sandbox.contains(p))
      if (outside !== undefined) return { verdict: 'reject', reason: `path outside the workdir: ${outside}` }
      return { verdict: 'allow', reason: `every path of this ${kind} is inside the workdir` }
    }
  }
}

/**
 * The ACP answer for a decision: the agent's own option of the right kind (`allow_once` before
 * `allow_always`, `reject_once` before `reject_always`), or `cancelled` when it offers none.
 */
export function outcomeFor (decision: 'allow' | 'reject', options: readonly PermissionOption[]): RequestPermissionOutcome {
  const order = decision === 'allow' ? ['allow_once', 'allow_always'] : ['reject_once', 'reject_always']
  for (const kind of order) {
    const option = options.find((o) => o.kind === kind)
    if (option) return { outcome: 'selected', optionId: option.optionId }
  }
  return { outcome: 'cancelled' }
}
