import assert from 'node:assert/strict'
import { test } from 'node:test'
import { execa } from 'execa'
import { AgentProcess } from '../../../src/acp/agent-process.js'
import { DETACHED_OPTIONS } from '../../../src/acp/detached-process.js'
import { listenForErrors } from '../../../src/lib/child-errors.js'

test("an 'error' on a helper process or one of its pipes after execa's result settled is reported, not thrown", async () => {
  const subprocess = execa('/bin/sh', ['-c', 'echo hi'], { ...DETACHED_OPTIONS, stdin: 'pipe', all: true })
  const seen: string[] = []
  listenForErrors(subprocess, (err, where) => seen.push(`${where}: ${err.message}`))
  await subprocess
  for (const emitter of [subprocess, subprocess.stdin, subprocess.stdout, subprocess.stderr, subprocess.all]) {
    assert.doesNotThrow(() => emitter.emit('error', new Error('late')))
  }
  assert.deepEqual(seen, ['process: late', 'stdin: late', 'stdout: late', 'stderr: late', 'all: late'])
})

test("an agent's pipes keep an 'error' listener after the agent has exited and its output ended", async () => {
  const agent = await AgentProcess.start({ argv: ['/bin/sh', '-c', 'exit 0'], cwd: process.cwd(), env: { PATH: process.env.PATH } })
  await agent.drained
  assert.doesNotThrow(() => agent.stdout.emit('error', new Error('late')))
  assert.doesNotThrow(() => agent.stdin.emit('error', new Error('late')))
  await agent.stop(1000)
})
