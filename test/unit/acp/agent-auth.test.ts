import assert from 'node:assert/strict'
import { test } from 'node:test'
import { RequestError, type AuthMethod } from '@agentclientprotocol/sdk'
import { authVars, usableAuthMethod, withAuth } from '../../../src/acp/agent-auth.js'

const methods = [
  { id: 'login', name: 'Log in', type: 'terminal' },
  { id: 'openai-api-key', name: 'OpenAI key' },
] as AuthMethod[]
// What AgentConnection rejects with for an error answer: an Error whose cause is the RequestError.
const authRequired = (): Error => new Error('session/new failed', { cause: RequestError.authRequired() })

test('a method is usable when a variable named after its id (or one it lists) is set; terminal logins never are', () => {
  assert.deepEqual(authVars({ id: 'openai-api-key', vars: [{ name: 'OPENAI_KEY' }] }), ['OPENAI_API_KEY', 'OPENAI_KEY'])
  assert.equal(usableAuthMethod(methods, {}), undefined)
  assert.equal(usableAuthMethod(methods, { LOGIN: 'x' }), undefined)
  assert.equal(usableAuthMethod(methods, { OPENAI_API_KEY: 'k' })?.id, 'openai-api-key')
})

test('withAuth authenticates once and retries on "authentication required", and fails clearly without credentials', async () => {
  let calls = 0
  const authenticated: string[] = []
  const auth = { methods, env: { OPENAI_API_KEY: 'k' }, authenticate: async (id: string) => { authenticated.push(id) } }
  const result = await withAuth(auth, async () => { if (calls++ === 0) throw authRequired(); return 'ok' })
  assert.equal(result, 'ok')
  assert.deepEqual(authenticated, ['openai-api-key'])
  await assert.rejects(withAuth({ ...auth, env: {} }, async () => { throw authRequired() }), /requires authentication .*methods: login, openai-api-key/)
  await assert.rejects(withAuth(auth, async () => { throw new Error('other') }), /^Error: other$/)
})
