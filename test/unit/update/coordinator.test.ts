import assert from 'node:assert/strict'
import { test } from 'node:test'
import { UpdateCoordinator, type UpdateBlocker } from '../../../src/update/coordinator.js'

/** A kind of work with a count that the test controls, recording whether it still takes new work. */
function work (error: string, countKey: string, count: number): UpdateBlocker & { n: number, accepting: boolean[] } {
  const blocker = {
    n: count,
    accepting: [] as boolean[],
    error,
    countKey,
    count: () => blocker.n,
    setAccepting: (accepting: boolean) => { blocker.accepting.push(accepting) },
  }
  return blocker
}

test('with nothing that a restart would lose, the update is accepted and the server drains', async () => {
  const coordinator = new UpdateCoordinator()
  coordinator.addBlocker(work('cannot update while terminal sessions are active', 'terminal_sessions', 0))
  assert.equal(await coordinator.begin(), null)
  assert.equal(coordinator.draining, true)
})

test('blocking work answers devpilot\'s 409 body, naming the first kind that has work', async () => {
  const coordinator = new UpdateCoordinator()
  coordinator.addBlocker(work('cannot update while terminal sessions are active', 'terminal_sessions', 2))
  coordinator.addBlocker(work('cannot update while persistent shell sessions are active', 'persistent_sessions', 1))
  assert.deepEqual(await coordinator.begin(), { error: 'cannot update while terminal sessions are active', terminal_sessions: 2 })
  assert.equal(coordinator.draining, false)
})

test('drain stops new blocking work and succeeds when the work ends in time', async () => {
  const coordinator = new UpdateCoordinator()
  const terminals = work('cannot update while terminal sessions are active', 'terminal_sessions', 1)
  coordinator.addBlocker(terminals)
  setTimeout(() => { terminals.n = 0 }, 150)
  assert.equal(await coordinator.begin(5), null)
  assert.deepEqual(terminals.accepting, [false])
  assert.equal(coordinator.draining, true)
})

test('drain answers 409 when the work does not end in time, and accepting resumes', async () => {
  const coordinator = new UpdateCoordinator()
  const acp = work('cannot update while ACP jobs are running', 'acp_jobs', 1)
  coordinator.addBlocker(acp)
  assert.deepEqual(await coordinator.begin(0.2), { error: 'cannot update while ACP jobs are running', acp_jobs: 1 })
  assert.deepEqual(acp.accepting, [false, true])
  assert.equal(coordinator.draining, false)
})
