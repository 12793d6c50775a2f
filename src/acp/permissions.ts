import { fileURLToPath } from 'node:url'
import type { PermissionOption, RequestPermissionOutcome, ToolCallUpdate } from '@agentclientprotocol/sdk'
import type { Sandbox } from './paths.js'
import { applyRules, type RulePolicy } from './rule-policy.js'

/** A policy by name (docs/api.md §20). */
export type PermissionPolicyName = 'deny' | 'read-only' | 'workdir' | 'allow-all' | 'ask'

/** How an ACP run answers the agent's permission requests: a named policy or rules. */
export type PermissionPolicy = PermissionPolicyName | RulePolicy

export const PERMISSION_POLICIES: readonly PermissionPolicyName[] = ['deny', 'read-only', 'workdir', 'allow-all', 'ask']
export const DEFAULT_PERMISSION_POLICY: PermissionPolicy = 'workdir'

/** The policy's name in events: its own, or `rules`. */
export const policyLabel = (policy: PermissionPolicy): string => typeof policy === 'string' ? policy : 'rules'

/** What a policy makes of one request: an answer now, or a question for a person. */
export interface PolicyVerdict {
  verdict: 'allow' | 'reject' | 'ask'
  reason: string
}

// Tool kinds that only look: read-only allows them when every path they name is inside the workdir.
const LOOKING_KINDS: ReadonlySet<string> = new Set(['read', 'search', 'think', 'fetch'])
// Tool kinds that change files: workdir also allows them when every path they name is inside it.
const FILE_CHANGING_KINDS: ReadonlySet<string> = new Set(['edit', 'delete', 'move'])
// Kinds that act on files, so a request of them must name at least one path to be checked.
const FILE_KINDS: ReadonlySet<string> = new Set(['read', 'edit', 'delete', 'move'])
// Keys of `rawInput` that agents use for paths (all of them are checked, not just the first).
const PATH_KEYS: readonly string[] = [
  'path', 'paths', 'file', 'files', 'filepath', 'filePath', 'file_path', 'filename', 'target', 'target_file',
  'source', 'destination', 'dest', 'from', 'to', 'old_path', 'new_path', 'oldPath', 'newPath', 'dir', 'directory', 'cwd',
  'uri', 'url', 'notebook_path', 'notebookPath', 'absolute_path', 'absolutePath',
]

const PATH_KEY_SET: ReadonlySet<string> = new Set(PATH_KEYS)
// How deep `rawInput` is searched for path keys.
const MAX_INPUT_DEPTH = 8

// A `file:` URI names a local path; other URIs (http, …) name none.
function pathOfUri (uri: string): string | null {
  if (!uri.startsWith('file:')) return null
  try { return fileURLToPath(uri) } catch { return uri }
}

// A string value of rawInput: a `file:` URI becomes its path, other URIs are not paths.
function pathOfValue (value: string): string | null {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(value) ? pathOfUri(value) : value
}

/**
 * Every path a tool call names: `locations`, the contents (diff paths, resource links and embedded
 * resources with a `file:` URI) and the path-like keys of `rawInput`, at any depth.
 */
export function toolCallPaths (toolCall: Pick<ToolCallUpdate, 'locations' | 'content' | 'rawInput'>): string[] {
  const paths: string[] = []
  for (const location of toolCall.locations ?? []) paths.push(location.path)
  for (const item of toolCall.content ?? []) {
    if (item.type === 'diff') paths.push(item.path)
    if (item.type !== 'content') continue
    const block = item.content
    const uri = block.type === 'resource_link' ? block.uri : block.type === 'resource' ? block.resource.uri : null
    const path = uri === null ? null : pathOfUri(uri)
    if (path !== null) paths.push(path)
  }
  collectInputPaths(toolCall.rawInput, paths, 0)
  return paths
}

// Why every depth: agents nest inputs (`{"edits": [{"file_path": …}]}`, `{"input": {"path": …}}`).
function collectInputPaths (input: unknown, paths: string[], depth: number): void {
  if (typeof input !== 'object' || input === null || depth > MAX_INPUT_DEPTH) return
  if (Array.isArray(input)) {
    for (const item of input) collectInputPaths(item, paths, depth + 1)
    return
  }
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    if (PATH_KEY_SET.has(key)) {
      for (const v of Array.isArray(value) ? value : [value]) {
        const path = typeof v === 'string' && v !== '' ? pathOfValue(v) : null
        if (path !== null) paths.push(path)
      }
    }
    collectInputPaths(value, paths, depth + 1)
  }
}

/**
 * True when the path (relative paths start at the workdir) lies inside the workdir after every
 * symbolic link is resolved. A path starting with `~` or naming a variable (`$HOME/x`, `${TMP}`)
 * is outside: the agent's tools may expand it to anywhere.
 */
function insideWorkdir (path: string, sandbox: Sandbox): boolean {
  if (path.startsWith('~') || path.includes('$')) return false
  return sandbox.contains(path)
}

/**
 * Applies a policy to a tool call: allow, reject, or ask (policy `ask` only). Under `read-only`
 * and `workdir`, every path the call names must be inside the workdir whatever its kind; a kind
 * that is missing, `other` or not in the ACP schema is rejected (docs/api.md).
 */
export function judgeToolCall (policy: PermissionPolicy, toolCall: ToolCallUpdate, sandbox: Sandbox): PolicyVerdict {
  const kind: string = toolCall.kind ?? 'other'
  if (typeof policy === 'object') return judgeByRules(policy, toolCall, sandbox)
  switch (policy) {
    case 'allow-all': return { verdict: 'allow', reason: 'policy allow-all' }
    case 'deny': return { verdict: 'reject', reason: 'policy deny' }
    case 'ask': return { verdict: 'ask', reason: 'policy ask' }
    case 'read-only':
    case 'workdir': {
      const allowedKind = LOOKING_KINDS.has(kind) || (policy === 'workdir' && FILE_CHANGING_KINDS.has(kind))
      if (!allowedKind) return { verdict: 'reject', reason: `policy ${policy} does not allow kind ${kind}` }
      const paths = toolCallPaths(toolCall)
      const outside = paths.find((p) => !insideWorkdir(p, sandbox))
      if (outside !== undefined) return { verdict: 'reject', reason: `path outside the workdir: ${outside}` }
      if (paths.length === 0) {
        return FILE_KINDS.has(kind)
          ? { verdict: 'reject', reason: `kind ${kind} names no path to check` }
          : { verdict: 'allow', reason: `kind ${kind} names no path` }
      }
      return { verdict: 'allow', reason: `every path of this ${kind} is inside the workdir` }
    }
  }
}

/**
 * A rule policy's verdict, with the workdir checks of `workdir` on top: a call naming a path
 * outside the workdir is rejected whatever the rules say, and a file kind the rules would allow
 * must name a path.
 */
function judgeByRules (policy: RulePolicy, toolCall: ToolCallUpdate, sandbox: Sandbox): PolicyVerdict {
  const kind: string = toolCall.kind ?? 'other'
  const paths = toolCallPaths(toolCall)
  const outside = paths.find((p) => !insideWorkdir(p, sandbox))
  if (outside !== undefined) return { verdict: 'reject', reason: `path outside the workdir: ${outside}` }
  const { action, reason } = applyRules(policy, toolCall)
  if (action === 'deny') return { verdict: 'reject', reason }
  if (action === 'allow' && paths.length === 0 && FILE_KINDS.has(kind)) return { verdict: 'reject', reason: `kind ${kind} names no path to check` }
  return { verdict: action, reason }
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
