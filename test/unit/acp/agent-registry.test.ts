import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { KNOWN_AGENTS, knownAgentOf, parseAgentOverrides, resolveAgent } from '../../../src/acp/agent-registry.js'
import { clientCapabilitiesFor } from '../../../src/acp/capabilities.js'

describe('agents by name', () => {
  test('each known name resolves to its command line; a full command line is taken as it is', () => {
    const table: Array<[string, string[]]> = [
      ['copilot', ['copilot', '--acp', '--stdio']],
      ['claude', ['claude-agent-acp']],
      ['gemini', ['gemini', '--acp']],
      ['codex', ['codex-acp']],
      ['opencode', ['opencode', 'acp']],
      ['qwen', ['qwen', '--acp']],
      [' Gemini ', ['gemini', '--acp']],
      ['gemini --acp --no-fs', ['gemini', '--acp', '--no-fs']],
      ['/opt/bin/my-agent "with space"', ['/opt/bin/my-agent', 'with space']],
    ]
    for (const [agent, argv] of table) assert.deepEqual(resolveAgent(agent, {}, false).argv, argv, agent)
    assert.deepEqual(resolveAgent(['node', 'agent.js'], {}, false).argv, ['node', 'agent.js'])
    assert.deepEqual(KNOWN_AGENTS.map((a) => a.name), ['copilot', 'claude', 'gemini', 'codex', 'opencode', 'qwen'])
  })

  test('overrides win over the built-in table and may add names', () => {
    const overrides = { claude: 'npx -y @zed-industries/claude-agent-acp@0.23', mine: '/opt/mine --acp' }
    const claude = resolveAgent('claude', overrides, false)
    assert.deepEqual(claude.argv, ['npx', '-y', '@zed-industries/claude-agent-acp@0.23'])
    assert.equal(claude.known?.name, 'claude')
    assert.deepEqual(resolveAgent('mine', overrides, false).argv, ['/opt/mine', '--acp'])
  })

  test('claude\'s adapter gets IS_SANDBOX=1 when the server runs as root, by name or by command line', () => {
    assert.deepEqual(resolveAgent('claude', {}, true).env, { IS_SANDBOX: '1' })
    assert.deepEqual(resolveAgent('/usr/lib/node_modules/.bin/claude-code-acp', {}, true).env, { IS_SANDBOX: '1' })
    assert.deepEqual(resolveAgent('claude', {}, false).env, {})
    assert.deepEqual(resolveAgent('gemini', {}, true).env, {})
  })

  test('a known agent is recognised by its command words or its agentInfo name', () => {
    assert.equal(knownAgentOf(['npx', '@zed-industries/codex-acp@0.16.0'])?.name, 'codex')
    assert.equal(knownAgentOf(['npx', '-y', 'opencode-ai', 'acp'])?.name, 'opencode')
    assert.equal(knownAgentOf(['node', '/x/scripted-agent.mjs'])?.name, undefined)
    assert.equal(knownAgentOf([], 'qwen-code')?.name, 'qwen')
    assert.equal(knownAgentOf([], 'Gemini-CLI')?.name, 'gemini')
  })

  test('--acp-agents must be a JSON object of non-empty command lines', () => {
    assert.deepEqual(parseAgentOverrides('{"Mine": "x --acp"}'), { mine: 'x --acp' })
    assert.throws(() => parseAgentOverrides('nope'), /must be a JSON object/)
    assert.throws(() => parseAgentOverrides('{"a": 1}'), /the command of agent "a" must be a non-empty command line/)
    assert.throws(() => parseAgentOverrides('{"a": "x \'y"}'), /unterminated single quote/)
  })

  test('clientCapabilities advertise only what is switched on', () => {
    assert.deepEqual(clientCapabilitiesFor(), { fs: { readTextFile: true, writeTextFile: true }, terminal: true })
    assert.deepEqual(clientCapabilitiesFor({ fs: false }), { terminal: true })
    assert.deepEqual(clientCapabilitiesFor({ terminal: false }), { fs: { readTextFile: true, writeTextFile: true } })
    assert.deepEqual(clientCapabilitiesFor({ fs: false, terminal: false }), {})
  })
})
