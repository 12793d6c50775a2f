import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { AcpResult } from '../../../src/acp/types.js'
import { outcomeOf, type JobEnd, type JobOutcome } from '../../../src/jobs/outcome.js'

const spec = { timeoutSec: 30, idleTimeoutSec: 5 }

/** An ACP result that ended with `stopReason`; `overrides` wins. */
function acp (stopReason: string, overrides: Partial<AcpResult> = {}): AcpResult {
  return { sessionId: 's-1', outputText: '', toolCalls: [], events: [], stopReason, stderr: '', error: null, timeout: null, aborted: false, ...overrides }
}

const outcome = (status: JobOutcome['status'], exitCode: number | null, signal: string | null, error: string | null): JobOutcome =>
  ({ status, exitCode, signal, error, timedOut: status === 'timeout' })

const acpOf = (result: AcpResult): JobOutcome['acp'] =>
  ({ sessionId: result.sessionId, stopReason: result.stopReason, toolCalls: result.toolCalls, error: result.error })

// [what happened, how it ended, what the record says]
const TABLE: Array<[string, JobEnd, JobOutcome]> = [
  ['exit 0', { type: 'process', end: { type: 'status', status: 0 }, reason: null }, outcome('completed', 0, null, null)],
  ['exit 3', { type: 'process', end: { type: 'status', status: 3 }, reason: null }, outcome('failed', 3, null, null)],
  ['status 143 is SIGTERM', { type: 'process', end: { type: 'status', status: 143 }, reason: null }, outcome('failed', 143, 'SIGTERM', null)],
  ['the wrapper died of SIGKILL', { type: 'process', end: { type: 'signal', signal: 'SIGKILL' }, reason: null }, outcome('failed', 137, 'SIGKILL', null)],
  ['killed by us, no status', { type: 'process', end: { type: 'killed' }, reason: 'cancel' }, outcome('cancelled', 137, 'SIGKILL', null)],
  ['output files could not be opened', { type: 'process', end: { type: 'output-files-failed', path: '/s/jobs/a/stdout' }, reason: null },
    outcome('failed', null, null, "could not open the job's output files (/s/jobs/a/stdout)")],
  ['vanished while no server ran', { type: 'process', end: { type: 'vanished' }, reason: null },
    outcome('failed', null, null, 'the job ended while no server was running and left no exit status')],
  ['timeout', { type: 'process', end: { type: 'status', status: 143 }, reason: 'timeout' }, outcome('timeout', 143, 'SIGTERM', 'timed out after 30 s')],
  ['idle timeout', { type: 'process', end: { type: 'status', status: 143 }, reason: 'idle' }, outcome('timeout', 143, 'SIGTERM', 'no output for 5 s')],
  ['kill', { type: 'process', end: { type: 'status', status: 143 }, reason: 'cancel' }, outcome('cancelled', 143, 'SIGTERM', null)],
  ['exit 0 after a kill still counts as cancelled', { type: 'process', end: { type: 'status', status: 0 }, reason: 'cancel' }, outcome('cancelled', 0, null, null)],
  ['server stop', { type: 'process', end: { type: 'status', status: 143 }, reason: 'shutdown' }, outcome('cancelled', 143, 'SIGTERM', 'server stopped')],
  ['shell job lost in a restart', { type: 'lost', mode: 'shell' }, outcome('failed', null, null, 'lost: the server stopped while this job ran and its process is gone')],
  ['ACP job lost in a restart', { type: 'lost', mode: 'acp' },
    outcome('failed', null, null, 'lost: the server stopped while this ACP job ran, and ACP sessions cannot survive a restart')],
  ['could not start', { type: 'start-failed', message: 'spawn ENOENT' }, outcome('failed', null, null, 'cannot start the job: spawn ENOENT')],
  ['pending job killed', { type: 'not-started', why: 'cancelled' }, outcome('cancelled', null, null, 'cancelled before it started')],
  ['pending job when the server stops', { type: 'not-started', why: 'server-stopped' }, outcome('cancelled', null, null, 'server stopped')],
  ['session command exit 0', { type: 'session', outcome: { exitCode: 0, signal: null, error: null, timedOut: false, shellRestarted: false }, reason: null }, outcome('completed', 0, null, null)],
  ['session command timed out (130)', { type: 'session', outcome: { exitCode: 130, signal: 'SIGINT', error: null, timedOut: true, shellRestarted: false }, reason: null }, outcome('timeout', 130, 'SIGINT', 'timed out after 30 s')],
  ['session command killed', { type: 'session', outcome: { exitCode: 130, signal: 'SIGINT', error: null, timedOut: false, shellRestarted: false }, reason: 'cancel' }, outcome('cancelled', 130, 'SIGINT', null)],
  ['session command ended the shell', { type: 'session', outcome: { exitCode: null, signal: null, error: 'the command ended the shell', timedOut: false, shellRestarted: true }, reason: null }, outcome('failed', null, null, 'the command ended the shell')],
  ['session shell stuck after a kill', { type: 'session', outcome: { exitCode: null, signal: 'SIGKILL', error: 'the shell was ended', timedOut: false, shellRestarted: true }, reason: 'cancel' }, outcome('cancelled', null, 'SIGKILL', 'the shell was ended')],
  ['session shell stuck after a timeout', { type: 'session', outcome: { exitCode: null, signal: 'SIGKILL', error: 'the shell was ended', timedOut: true, shellRestarted: true }, reason: null }, outcome('timeout', null, 'SIGKILL', 'timed out after 30 s; the shell was ended')],
  ['session command lost', { type: 'lost', mode: 'persistent_shell' }, outcome('failed', null, null, "lost: the server stopped while this command ran and its session's shell is gone")],
]

const ACP_TABLE: Array<[string, AcpResult, 'cancel' | 'shutdown' | null, JobOutcome]> = [
  ['end_turn', acp('end_turn'), null, outcome('completed', 0, null, null)],
  ['no prompt', acp('no_prompt'), null, outcome('completed', 0, null, null)],
  ['max_tokens', acp('max_tokens'), null, outcome('failed', 1, null, null)],
  ['end_turn with an error', acp('end_turn', { error: 'boom' }), null, outcome('failed', 1, null, 'boom')],
  ['its own timeout', acp('timeout', { timeout: 'total', error: 'the run timed out' }), null, outcome('timeout', 1, null, 'timed out after 30 s')],
  ['its own idle timeout', acp('timeout', { timeout: 'idle', error: 'idle' }), null, outcome('timeout', 1, null, 'no output for 5 s')],
  ['cancelled by a kill', acp('cancelled', { aborted: true, error: 'cancelled' }), 'cancel', outcome('cancelled', 1, null, 'cancelled')],
  ['aborted without a recorded reason', acp('cancelled', { aborted: true, error: 'cancelled' }), null, outcome('cancelled', 1, null, 'cancelled')],
  ['stopped with the server', acp('cancelled', { aborted: true, error: 'cancelled' }), 'shutdown', outcome('cancelled', 1, null, 'server stopped')],
]

describe('job outcomes', () => {
  for (const [what, end, expected] of TABLE) {
    test(`${what} → ${expected.status}`, () => {
      assert.deepEqual(outcomeOf(end, spec), expected)
    })
  }
  for (const [what, result, reason, expected] of ACP_TABLE) {
    test(`ACP: ${what} → ${expected.status}, and the run's result is kept on the job`, () => {
      assert.deepEqual(outcomeOf({ type: 'acp', result, reason }, spec), { ...expected, acp: acpOf(result) })
    })
  }
})
