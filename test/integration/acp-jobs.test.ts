import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { agentArgv, assertNoProcesses, EXAMPLE_AGENT, marker, MISBEHAVING_AGENT, SCRIPTED_AGENT } from '../helpers/acp.js'
import { call, spawnServer } from '../helpers/cli-process.js'
import { killMatching, processesMatching } from '../helpers/processes.js'
import { makeStateDir, startServer, type TestServer } from '../helpers/server.js'
import { readEvents, type StreamEvent } from '../helpers/sse.js'
import { waitFor } from '../helpers/wait.js'

/** An agent command line for POST /exec (the marker makes its processes findable). */
const agent = (script: string, ...args: string[]): string => agentArgv(script, ...args).map((a) => `'${a}'`).join(' ')
const script = (...steps: unknown[]): string => JSON.stringify(steps)

describe('ACP jobs over HTTP', { concurrency: true }, () => {
  let server: TestServer
  const workdir = mkdtempSync(join(tmpdir(), 'acp-jobs-'))
  before(async () => { server = await startServer({ killGrace: '1' }) })
  after(async () => {
    await server.close()
    rmSync(workdir, { recursive: true, force: true })
  })
  const submit = (body: Record<string, unknown>): Promise<string> => server.submit({ mode: 'acp', workdir, ...body })

  test('a job with the SDK example agent: devpilot\'s fields, agent text as stdout, every event in the log and on the stream', async () => {
    const m = marker()
    const id = await submit({ agent: agent(EXAMPLE_AGENT, m), prompt: 'hello', permissionPolicy: 'allow-all' })
    const streamed: StreamEvent[] = []
    for await (const event of readEvents(`${server.url}/jobs/${id}/events`, server.key)) streamed.push(event)
    const job = await server.finished(id)
    assert.equal(job.status, 'completed')
    assert.equal(job.exitCode, 0)
    assert.equal(job.mode, 'acp')
    assert.equal(job.command, `[acp] ${agent(EXAMPLE_AGENT, m)}`)
    assert.equal(job.stopReason, 'end_turn')
    assert.match(job.acpSessionId, /^[0-9a-f]{32}$/)
    assert.equal('acpError' in job, false)
    assert.match(job.stdout, /^I'll help you with that\..* Perfect! I've successfully updated the configuration\. The changes have been applied\.$/)
    assert.deepEqual(job.toolCalls.map((c: any) => [c.toolCallId, c.status]), [['call_1', 'completed'], ['call_2', 'completed']])
    const types = job.events.map((e: any) => e.type)
    assert.deepEqual(types, ['initialize', 'session', 'message', 'tool_call', 'tool_call_update', 'message', 'tool_call', 'permission', 'tool_call_update', 'message', 'stop'])
    assert.ok(job.events.every((e: any) => typeof e.timestamp === 'number' && typeof e.data === 'object'))
    assert.deepEqual(streamed.filter((e) => e.event === 'acp').map((e) => e.data.type), types)
    assert.equal(streamed.filter((e) => e.event === 'output').map((e) => e.data.data).join(''), job.stdout)
    assert.deepEqual(streamed.at(-1), { id: streamed.at(-1)?.id, event: 'exit', data: { status: 'completed', exitCode: 0, signal: null, error: null } })
    await assertNoProcesses(m)
  })

  test('progress is visible while the job runs; kill cancels the turn and keeps what was collected', async () => {
    const m = marker()
    const id = await submit({
      agent: agent(SCRIPTED_AGENT, m),
      prompt: script({ say: 'working on it' }, { tool: { toolCallId: 't1', title: 'Think', kind: 'think', status: 'in_progress' } }, { sleep: 60_000 }),
    })
    const running = await waitFor(async () => {
      const { body } = await server.api('GET', `/jobs/${id}`)
      return body.toolCalls?.length === 1 ? body : undefined
    }, 'the tool call to show')
    assert.equal(running.status, 'running')
    assert.equal(running.processAlive, true)
    assert.equal(running.stdout, 'working on it')
    assert.match(running.acpSessionId, /^fake-/)
    assert.equal(running.stopReason, null)
    assert.deepEqual(running.toolCalls, [{ toolCallId: 't1', title: 'Think', kind: 'think', status: 'in_progress' }])
    assert.deepEqual(running.events.map((e: any) => e.type), ['initialize', 'session', 'message', 'tool_call'])
    const killed = await server.api('POST', `/jobs/${id}/kill`)
    assert.equal(killed.status, 200)
    const job = await server.finished(id)
    assert.equal(job.status, 'cancelled')
    assert.equal(job.exitCode, 1)
    assert.equal(job.stopReason, 'cancelled')
    assert.equal(job.stdout, 'working on it')
    assert.equal(job.processAlive, false)
    assert.deepEqual(job.events.slice(-2).map((e: any) => e.type), ['cancel', 'stop'])
    await assertNoProcesses(m)
  })

  test('policy ask: the request is surfaced as an event and answered with POST /jobs/:id/permission', async () => {
    const id = await submit({
      agent: agent(SCRIPTED_AGENT, marker()),
      permissionPolicy: 'ask',
      prompt: script({ permission: { toolCallId: 'e1', title: 'Edit a file', kind: 'edit', rawInput: { path: 'x' } } }),
    })
    let request: any
    for await (const event of readEvents(`${server.url}/jobs/${id}/events`, server.key)) {
      if (event.event === 'acp' && event.data.type === 'permission_request') { request = event.data.data; break }
    }
    assert.equal(request.requestId, 'perm-1')
    assert.equal(request.toolCall.title, 'Edit a file')
    assert.deepEqual(request.options.map((o: any) => o.optionId), ['yes-always', 'yes', 'no-always', 'no'])
    const wrongOption = await server.api('POST', `/jobs/${id}/permission`, { requestId: 'perm-1', optionId: 'maybe' })
    assert.equal(wrongOption.status, 400)
    assert.equal(wrongOption.body.code, 'UNKNOWN_PERMISSION_OPTION')
    assert.equal(wrongOption.body.error, 'optionId maybe is not one of the options of this request (yes-always, yes, no-always, no)')
    const wrongRequest = await server.api('POST', `/jobs/${id}/permission`, { requestId: 'perm-9', optionId: 'yes' })
    assert.equal(wrongRequest.status, 404)
    assert.equal(wrongRequest.body.code, 'PERMISSION_REQUEST_NOT_FOUND')
    const answered = await server.api('POST', `/jobs/${id}/permission`, { requestId: 'perm-1', optionId: 'yes' })
    assert.equal(answered.status, 200)
    assert.deepEqual(answered.body, { jobId: id, requestId: 'perm-1', outcome: { outcome: 'selected', optionId: 'yes' } })
    const job = await server.finished(id)
    assert.equal(job.status, 'completed')
    assert.equal(job.stdout, JSON.stringify([{ outcome: 'selected', optionId: 'yes' }]) + '\n')
    const permission = job.events.find((e: any) => e.type === 'permission')
    assert.equal(permission.data.decision, 'allow')
    const again = await server.api('POST', `/jobs/${id}/permission`, { requestId: 'perm-1', optionId: 'yes' })
    assert.equal(again.body.code, 'PERMISSION_REQUEST_NOT_FOUND')
  })

  test('a shell job has no permission requests, and ACP jobs have no stdin', async () => {
    const shell = await server.submit({ command: 'true' })
    const response = await server.api('POST', `/jobs/${shell}/permission`, { requestId: 'perm-1', optionId: 'yes' })
    assert.equal(response.status, 409)
    assert.equal(response.body.code, 'NOT_AN_ACP_JOB')
    const id = await submit({ agent: agent(SCRIPTED_AGENT, marker()), prompt: script({ sleep: 60_000 }) })
    const stdin = await server.api('POST', `/jobs/${id}/stdin`, { data: 'x' })
    assert.equal(stdin.body.code, 'STDIN_CLOSED')
    const nudge = await server.api('POST', `/jobs/${id}/nudge`)
    assert.equal(nudge.body.nudged, false)
    await server.api('DELETE', `/jobs/${id}`)
    assert.equal((await server.finished(id)).status, 'cancelled')
  })

  test('under the default workdir policy a job\'s agent asking to read /etc/passwd is refused; a model the agent refuses only adds a warning event', async () => {
    const m = marker()
    const id = await submit({
      agent: agent(SCRIPTED_AGENT, m),
      env: { FAKE_ACP_CONFIG: 'options' },
      model: 'no-such-model',
      prompt: script({ permission: { toolCallId: 'r1', title: 'Read passwd', kind: 'read', locations: [{ path: '/etc/passwd' }] } }),
    })
    const job = await server.finished(id)
    assert.equal(job.status, 'completed')
    assert.equal(job.stdout, '[{"outcome":"selected","optionId":"no"}]\n')
    const permission = job.events.find((e: any) => e.type === 'permission')
    assert.equal(permission.data.policy, 'workdir')
    assert.equal(permission.data.decision, 'reject')
    assert.equal(permission.data.reason, 'path outside the workdir: /etc/passwd')
    const warning = job.events.find((e: any) => e.type === 'warning')
    assert.equal(warning.data.setting, 'model')
    assert.match(warning.data.message, /did not take model "no-such-model"/)
    await assertNoProcesses(m)
  })

  test('timeout ends the job as timeout with exit code 1 and the partial text', async () => {
    const m = marker()
    const id = await submit({ agent: agent(SCRIPTED_AGENT, m), prompt: script({ say: 'half' }, { sleep: 60_000 }), timeout: 4 })
    const job = await server.finished(id)
    assert.equal(job.status, 'timeout')
    assert.equal(job.exitCode, 1)
    assert.equal(job.timedOut, true)
    assert.equal(job.stopReason, 'timeout')
    assert.equal(job.error, 'timed out after 4 s')
    assert.equal(job.acpError, 'timed out after 4 s')
    assert.equal(job.stdout, 'half')
    await assertNoProcesses(m)
  })

  test('an agent that dies mid-turn fails the job at once with its stderr and exit code in acpError', async () => {
    const m = marker()
    const id = await submit({ agent: agent(MISBEHAVING_AGENT, 'exit', m), prompt: 'go', timeout: 120 })
    const job = await server.finished(id)
    assert.equal(job.status, 'failed')
    assert.equal(job.exitCode, 1)
    assert.equal(job.stopReason, 'error')
    assert.equal(job.stdout, 'partial')
    assert.equal(job.stderr, 'fatal: the model went away\n')
    assert.equal(job.acpError, 'the agent exited with code 3 during session/prompt; stderr: fatal: the model went away')
    await assertNoProcesses(m)
  })

  test('an empty prompt only creates the session; an agent that is not installed fails the job', async () => {
    const created = await server.finished(await submit({ agent: agent(SCRIPTED_AGENT, marker()) }))
    assert.equal(created.status, 'completed')
    assert.equal(created.stopReason, 'no_prompt')
    assert.match(created.acpSessionId, /^fake-/)
    const missing = await server.finished(await submit({ agent: 'no-such-acp-agent --stdio', prompt: 'x' }))
    assert.equal(missing.status, 'failed')
    assert.equal(missing.exitCode, 1)
    assert.match(missing.acpError, /cannot start the agent "no-such-acp-agent": spawn no-such-acp-agent ENOENT/)
  })

  test('bad ACP fields answer 400 with a clear message', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ permissionPolicy: 'yolo' }, 'permissionPolicy must be one of deny, read-only, workdir, allow-all, ask'],
      [{ prompt: 5 }, 'prompt must be a string'],
      [{ agent: 'node "unclosed' }, 'agent: the command line has an unterminated double quote'],
      [{ mcpServers: 'none' }, 'mcpServers must be an array of MCP server objects, each with a name'],
      [{ persistent_session_key: 3 }, 'persistent_session_key must be a string'],
      [{ persistent_session_key: 'k' }, 'persistent_shell is required'],
      [{ persistent_session_key: 'k', persistent_shell: 'fish' }, 'unsupported shell: fish'],
    ]
    for (const [body, message] of cases) {
      const response = await server.api('POST', '/exec', { mode: 'acp', ...body })
      assert.equal(response.status, 400, JSON.stringify(body))
      assert.equal(response.body.error, message)
    }
  })

  test('/health says ACP is supported', async () => {
    const { body } = await server.api('GET', '/health')
    assert.equal(body.acp_supported, true)
    assert.ok(body.execution_modes.includes('acp'))
  })
})

describe('ACP jobs and POST /update', () => {
  test('a running ACP job blocks the update with devpilot\'s 409 shape (running_jobs, and acp_jobs as before); a drain waits for it to end', async () => {
    let restarts = 0
    const server = await startServer({}, {}, { onRestart: () => { restarts++ } })
    const workdir = server.stateDir
    try {
      const running = await server.submit({ mode: 'acp', workdir, agent: agent(SCRIPTED_AGENT, marker()), prompt: script({ sleep: 60_000 }) })
      await waitFor(async () => (await server.api('GET', `/jobs/${running}`)).body.acpSessionId, 'the session to start')
      const refused = await server.api('POST', '/update')
      assert.equal(refused.status, 409)
      assert.deepEqual(refused.body, { error: 'cannot update while ACP jobs are running', acp_jobs: 1, running_jobs: 1, code: 'UPDATE_BLOCKED' })
      await server.api('POST', `/jobs/${running}/kill`)
      await server.finished(running)

      const short = await server.submit({ mode: 'acp', workdir, agent: agent(SCRIPTED_AGENT, marker()), prompt: script({ sleep: 1500 }, { say: 'done' }) })
      await waitFor(async () => (await server.api('GET', `/jobs/${short}`)).body.acpSessionId, 'the short job to start')
      const update = server.api('POST', '/update', { drain: 30 })
      // Submitted during the drain: accepted, but it waits instead of starting (it would block the update).
      const queued = await server.submit({ mode: 'acp', workdir, agent: agent(SCRIPTED_AGENT, marker()), prompt: script({ say: 'after the update' }) })
      const shell = await server.submit({ command: 'echo shell jobs still run' })
      assert.equal((await server.finished(shell)).stdout, 'shell jobs still run\n')
      assert.equal((await server.api('GET', `/jobs/${queued}`)).body.status, 'pending')
      assert.equal((await update).status, 200)
      assert.equal((await server.api('GET', `/jobs/${short}`)).status, 503, 'draining')
      await waitFor(() => restarts === 1, 'the restart hook')
      await server.app.close()

      const next = await startServer({ stateDir: server.stateDir })
      try {
        assert.equal((await next.finished(short)).stdout, 'done', 'the drained job had ended before the update')
        const after = await next.finished(queued)
        assert.equal(after.status, 'completed')
        assert.equal(after.stdout, 'after the update')
      } finally {
        await next.close()
      }
    } finally {
      await server.close().catch(() => {})
    }
  })

  test('an ACP job running when the server dies ends failed as lost, and its leftover agent is ended', async () => {
    const stateDir = makeStateDir()
    const m = marker()
    try {
      const first = await spawnServer(stateDir)
      const { body } = await call(first, 'POST', '/exec', { mode: 'acp', workdir: stateDir, agent: agent(SCRIPTED_AGENT, m), prompt: script({ say: 'hi' }, { sleep: 60_000 }) })
      await waitFor(async () => (await call(first, 'GET', `/jobs/${body.jobId}`)).body.stdout === 'hi', 'the job to run')
      await first.stop('SIGKILL')
      assert.ok(processesMatching(m).length > 0, 'the agent outlived the server')
      const second = await spawnServer(stateDir)
      try {
        const { body: job } = await call(second, 'GET', `/jobs/${body.jobId}`)
        assert.equal(job.status, 'failed')
        assert.equal(job.error, 'lost: the server stopped while this ACP job ran, and ACP sessions cannot survive a restart')
        assert.match(job.acpSessionId, /^fake-/, 'the session id is kept, to load the session again')
        assert.equal(job.stdout, 'hi')
        await assertNoProcesses(m)
      } finally {
        await second.stop()
      }
    } finally {
      killMatching(m)
      rmSync(stateDir, { recursive: true, force: true })
    }
  })
})
