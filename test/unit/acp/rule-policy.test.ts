import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, realpathSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, test } from 'node:test'
import type { ToolCallUpdate } from '@agentclientprotocol/sdk'
import { Sandbox } from '../../../src/acp/paths.js'
import { judgeToolCall } from '../../../src/acp/permissions.js'
import { parseRulePolicy, type RulePolicy } from '../../../src/acp/rule-policy.js'

describe('rule permission policies', () => {
  const top = realpathSync(mkdtempSync(join(tmpdir(), 'acp-rules-')))
  const root = join(top, 'work')
  mkdirSync(root)
  after(() => rmSync(top, { recursive: true, force: true }))
  const sandbox = new Sandbox(root)
  const inside = join(root, 'a.txt')

  const policy: RulePolicy = { autoApprove: ['read', 'search', 'Bash', 'mcp__github__*'], autoDeny: ['delete', 'WebFetch'], defaultAction: 'ask' }
  const call = (fields: Partial<ToolCallUpdate>): ToolCallUpdate => ({ toolCallId: 'c', ...fields })

  // [what, policy, tool call, verdict, reason]
  const table: Array<[string, RulePolicy, ToolCallUpdate, 'allow' | 'reject' | 'ask', string]> = [
    ['a kind in autoApprove', policy, call({ kind: 'read', title: 'Read a.txt', locations: [{ path: inside }] }), 'allow', 'rule autoApprove "read"'],
    ['a tool name in autoApprove (the title\'s first word, any case)', policy, call({ kind: 'execute', title: 'bash: ls -la' }), 'allow', 'rule autoApprove "Bash"'],
    ['a tool name from _meta', policy, call({ kind: 'execute', title: 'Run it', _meta: { claudeCode: { toolName: 'Bash' } } }), 'allow', 'rule autoApprove "Bash"'],
    ['a prefix rule', policy, call({ kind: 'other', title: 'mcp__github__create_issue' }), 'allow', 'rule autoApprove "mcp__github__*"'],
    ['autoDeny wins over autoApprove', { ...policy, autoDeny: ['Bash'] }, call({ kind: 'execute', title: 'Bash' }), 'reject', 'rule autoDeny "Bash"'],
    ['a kind in autoDeny', policy, call({ kind: 'delete', title: 'rm', locations: [{ path: inside }] }), 'reject', 'rule autoDeny "delete"'],
    ['a tool name in autoDeny', policy, call({ kind: 'fetch', title: 'WebFetch' }), 'reject', 'rule autoDeny "WebFetch"'],
    ['no rule: defaultAction ask', policy, call({ kind: 'edit', title: 'Edit', locations: [{ path: inside }] }), 'ask', 'no rule matches kind edit; defaultAction ask'],
    ['no rule, no kind: matched as other', policy, call({ title: 'Mystery' }), 'ask', 'no rule matches kind other; defaultAction ask'],
    ['no rule: defaultAction deny', { ...policy, defaultAction: 'deny' }, call({ kind: 'edit', title: 'Edit', locations: [{ path: inside }] }), 'reject', 'no rule matches kind edit; defaultAction deny'],
    ['no rule: defaultAction allow', { ...policy, defaultAction: 'allow' }, call({ kind: 'edit', title: 'Edit', locations: [{ path: inside }] }), 'allow', 'no rule matches kind edit; defaultAction allow'],
    ['* approves anything', { autoApprove: ['*'], autoDeny: [], defaultAction: 'deny' }, call({ kind: 'execute', title: 'Bash' }), 'allow', 'rule autoApprove "*"'],
    ['a path outside the workdir is rejected whatever the rules say', policy, call({ kind: 'read', title: 'Read', locations: [{ path: '/etc/passwd' }] }), 'reject', 'path outside the workdir: /etc/passwd'],
    ['… also under defaultAction ask', policy, call({ kind: 'edit', title: 'Edit', rawInput: { file_path: '~/.ssh/id_rsa' } }), 'reject', 'path outside the workdir: ~/.ssh/id_rsa'],
    ['an approved file kind must name a path', policy, call({ kind: 'read', title: 'Read' }), 'reject', 'kind read names no path to check'],
    ['an approved kind that needs no path', policy, call({ kind: 'search', title: 'Grep' }), 'allow', 'rule autoApprove "search"'],
  ]
  for (const [what, rules, toolCall, verdict, reason] of table) {
    test(`${what}: ${verdict}`, () => {
      assert.deepEqual(judgeToolCall(rules, toolCall, sandbox), { verdict, reason })
    })
  }

  test('parseRulePolicy fills the defaults and refuses anything else with a clear message', () => {
    assert.deepEqual(parseRulePolicy({}), { autoApprove: [], autoDeny: [], defaultAction: 'deny' })
    assert.deepEqual(parseRulePolicy({ autoApprove: [' read '], defaultAction: 'ask' }), { autoApprove: ['read'], autoDeny: [], defaultAction: 'ask' })
    assert.throws(() => parseRulePolicy({ autoApprove: 'read' }), /permissionPolicy.autoApprove must be an array of tool kinds or tool names/)
    assert.throws(() => parseRulePolicy({ autoDeny: [''] }), /permissionPolicy.autoDeny must be an array/)
    assert.throws(() => parseRulePolicy({ defaultAction: 'maybe' }), /permissionPolicy.defaultAction must be one of allow, deny, ask/)
    assert.throws(() => parseRulePolicy({ allow: [] }), /permissionPolicy has an unknown field "allow"/)
  })
})
