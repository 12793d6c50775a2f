import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import type { PermissionOption, ToolCallUpdate } from '@agentclientprotocol/sdk'
import { Sandbox } from '../../../src/acp/paths.js'
import { judgeToolCall, outcomeFor, PERMISSION_POLICIES, toolCallPaths, type PermissionPolicy } from '../../../src/acp/permissions.js'

const KINDS = ['read', 'search', 'think', 'fetch', 'edit', 'delete', 'move', 'execute', 'switch_mode', 'other', 'browse', undefined] as const
type Where = 'inside' | 'relative' | 'outside' | 'symlink' | 'mixed' | 'none' | 'home' | 'uri' | 'resource'
const WHERE: readonly Where[] = ['inside', 'relative', 'outside', 'symlink', 'mixed', 'none', 'home', 'uri', 'resource']

/** What docs/api.md says each policy does with a kind and the paths it names. */
function expected (policy: PermissionPolicy, kind: string | undefined, where: Where): 'allow' | 'reject' | 'ask' {
  if (policy === 'allow-all') return 'allow'
  if (policy === 'deny') return 'reject'
  if (policy === 'ask') return 'ask'
  const looking = ['read', 'search', 'think', 'fetch'].includes(kind ?? '')
  const changing = ['edit', 'delete', 'move'].includes(kind ?? '')
  // Unknown, missing and `other` kinds, execute and switch_mode: rejected whatever the paths.
  if (!looking && !(policy === 'workdir' && changing)) return 'reject'
  if (where === 'inside' || where === 'relative') return 'allow'
  // A call naming no path can only be allowed for kinds that need none.
  if (where === 'none') return ['search', 'think', 'fetch'].includes(kind ?? '') ? 'allow' : 'reject'
  return 'reject'
}

describe('permission policies', () => {
  const top = realpathSync(mkdtempSync(join(tmpdir(), 'acp-policy-')))
  const root = join(top, 'work')
  mkdirSync(join(root, 'src'), { recursive: true })
  mkdirSync(join(top, 'secret'))
  symlinkSync(join(top, 'secret'), join(root, 'escape'))
  after(() => rmSync(top, { recursive: true, force: true }))
  const sandbox = new Sandbox(root)

  const toolCall = (kind: string | undefined, where: Where): ToolCallUpdate => {
    const base: ToolCallUpdate = { toolCallId: 'c1', title: 't', ...(kind ? { kind: kind as NonNullable<ToolCallUpdate['kind']> } : {}) }
    switch (where) {
      case 'inside': return { ...base, locations: [{ path: join(root, 'src', 'a.ts') }], rawInput: { path: join(root, 'new', 'b.ts') } }
      case 'relative': return { ...base, rawInput: { file_path: 'src/a.ts', destination: './src/b.ts' } }
      case 'outside': return { ...base, locations: [{ path: '/etc/passwd' }] }
      case 'symlink': return { ...base, rawInput: { path: 'escape/key.pem' } }
      case 'mixed': return { ...base, rawInput: { path: join(root, 'src', 'a.ts'), target: '../outside.txt' } }
      case 'none': return { ...base, rawInput: { command: 'rm -rf /', cwd_hint: 'x', url: 'https://example.com/' } }
      case 'home': return { ...base, rawInput: { file_path: '~/.ssh/id_rsa' } }
      case 'uri': return { ...base, locations: [{ path: join(root, 'src', 'a.ts') }], rawInput: { uri: 'file:///etc/passwd' } }
      case 'resource': return { ...base, content: [{ type: 'content', content: { type: 'resource_link', name: 'key', uri: `file://${join(top, 'secret', 'key.pem')}` } }] }
    }
  }

  test('every policy × tool kind × path (inside, relative, outside, symlink escape, mixed, none, ~, file: URI, resource link)', () => {
    for (const policy of PERMISSION_POLICIES) {
      for (const kind of KINDS) {
        for (const where of WHERE) {
          const { verdict } = judgeToolCall(policy, toolCall(kind, where), sandbox)
          assert.equal(verdict, expected(policy, kind, where), `${policy} × ${kind ?? '(no kind)'} × ${where}`)
        }
      }
    }
  })

  test('under read-only and workdir a read of /etc/passwd, ~/.ssh/id_rsa or $HOME/.ssh/id_rsa is rejected; allow-all still approves it', () => {
    for (const rawInput of [{ path: '/etc/passwd' }, { file_path: '~/.ssh/id_rsa' }, { path: join(root, 'escape', 'id_rsa') }, { file_path: '$HOME/.ssh/id_rsa' }, { path: 'sub/$TMPDIR/x' }]) {
      const call: ToolCallUpdate = { toolCallId: 'r', kind: 'read', rawInput }
      for (const policy of ['read-only', 'workdir'] as const) {
        const verdict = judgeToolCall(policy, call, sandbox)
        assert.equal(verdict.verdict, 'reject', `${policy} × ${JSON.stringify(rawInput)}`)
        assert.match(verdict.reason, /path outside the workdir/)
      }
      assert.equal(judgeToolCall('allow-all', call, sandbox).verdict, 'allow')
    }
  })

  test('an execute tool call is not allowed by workdir just because its cwd is inside (devpilot approved rm -rf /)', () => {
    const call: ToolCallUpdate = { toolCallId: 'x', kind: 'execute', rawInput: { command: 'rm -rf /', cwd: root } }
    assert.equal(judgeToolCall('workdir', call, sandbox).verdict, 'reject')
  })

  test('every path-like key (at any depth of rawInput), location and diff is checked, not only the first', () => {
    const call: ToolCallUpdate = {
      toolCallId: 'x',
      kind: 'move',
      locations: [{ path: 'a' }],
      content: [{ type: 'diff', path: 'b', newText: '' }],
      rawInput: { from: 'c', to: 'd', paths: ['e', 'f'], unrelated: '/etc' },
    }
    assert.deepEqual(new Set(toolCallPaths(call)), new Set(['a', 'b', 'c', 'd', 'e', 'f']))
    const nested = { ...call, rawInput: { edits: [{ file_path: 'g' }], input: { path: ['h'], url: 'https://x/' } } }
    assert.deepEqual(new Set(toolCallPaths(nested)), new Set(['a', 'b', 'g', 'h']))
    assert.equal(judgeToolCall('workdir', { ...nested, rawInput: { edits: [{ file_path: '/etc/shadow' }] } }, sandbox).verdict, 'reject')
    assert.equal(judgeToolCall('workdir', { ...call, rawInput: { ...call.rawInput as object, to: '/tmp/x' } }, sandbox).verdict, 'reject')
  })

  test('answers pick the agent\'s option of the right kind, in schema shape', () => {
    const options: PermissionOption[] = [
      { optionId: 'r-always', name: 'Never', kind: 'reject_always' },
      { optionId: 'a-always', name: 'Always', kind: 'allow_always' },
      { optionId: 'r-once', name: 'No', kind: 'reject_once' },
      { optionId: 'a-once', name: 'Yes', kind: 'allow_once' },
    ]
    assert.deepEqual(outcomeFor('allow', options), { outcome: 'selected', optionId: 'a-once' })
    assert.deepEqual(outcomeFor('reject', options), { outcome: 'selected', optionId: 'r-once' })
    assert.deepEqual(outcomeFor('allow', options.filter((o) => o.kind !== 'allow_once')), { outcome: 'selected', optionId: 'a-always' })
    assert.deepEqual(outcomeFor('reject', options.filter((o) => o.kind !== 'reject_once')), { outcome: 'selected', optionId: 'r-always' })
    assert.deepEqual(outcomeFor('allow', options.filter((o) => o.kind.startsWith('reject'))), { outcome: 'cancelled' })
    assert.deepEqual(outcomeFor('reject', []), { outcome: 'cancelled' })
  })
})
