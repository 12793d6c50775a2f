import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { jobFiles } from '../../../src/exec/job-files.js'
import type { SpawnOptions } from '../../../src/exec/job-process.js'
import { encodePrepareRequest, encodeStartRequest, encodeStdinTaken, parseAnswer } from '../../../src/exec/launcher-protocol.js'

const files = jobFiles('/state', 'abc')
const options = (extra: Partial<SpawnOptions> = {}): SpawnOptions =>
  ({ files, command: 'echo hi', shell: '/bin/sh', cwd: '/work', env: { A: '1', UNSET: undefined, B: 'x y' }, stdin: 'ignore', ...extra })

// The NUL-terminated fields of a message, after checking that its length header is right.
function fieldsOf (message: Buffer): string[] {
  assert.equal(message.readUInt32LE(0), message.length - 4)
  const body = message.subarray(4).toString()
  assert.ok(body.endsWith('\0'))
  return body.slice(0, -1).split('\0')
}

describe('launcher protocol', () => {
  test('a start request carries the request number, the job files and the set variables, in the order the launcher reads them', () => {
    assert.deepEqual(fieldsOf(encodeStartRequest(7, options()) as Buffer), [
      'S', '7', '/state/jobs/abc/launch', '/work', '/bin/sh', 'echo hi',
      '/state/jobs/abc/exit', '/state/jobs/abc/stdout', '/state/jobs/abc/stderr', '', 'A=1', 'B=x y',
    ])
  })

  test('a job whose stdin is piped names its FIFO in the start request', () => {
    assert.equal(fieldsOf(encodeStartRequest(1, options({ stdin: 'pipe' })) as Buffer)[9], '/state/jobs/abc/stdin')
  })

  test('a NUL byte in the command, shell, workdir or environment makes no request', () => {
    assert.equal(encodeStartRequest(1, options({ command: 'a\0b' })), null)
    assert.equal(encodeStartRequest(1, options({ shell: 'a\0b' })), null)
    assert.equal(encodeStartRequest(1, options({ cwd: 'a\0b' })), null)
    assert.equal(encodeStartRequest(1, options({ env: { A: 'a\0b' } })), null)
  })

  test('a prepare request names the folder to make; a NUL byte in it makes no request; its answer is read back', () => {
    assert.deepEqual(fieldsOf(encodePrepareRequest(9, '/state/jobs/.prepared/3') as Buffer), ['P', '9', '/state/jobs/.prepared/3'])
    assert.equal(encodePrepareRequest(9, '/a\0b'), null)
    assert.deepEqual(parseAnswer('P 9'), { kind: 'prepared', request: 9 })
    assert.deepEqual(parseAnswer('E 9 prepare /x: No space left on device'), { kind: 'failed', request: 9, message: 'prepare /x: No space left on device' })
  })

  test('jobs sharing one env object share its encoding; a NUL byte in a later env is still refused', () => {
    const env = { A: '1' }
    const first = fieldsOf(encodeStartRequest(1, options({ env })) as Buffer)
    const second = fieldsOf(encodeStartRequest(2, options({ env, command: 'echo two' })) as Buffer)
    assert.deepEqual(first.slice(10), ['A=1'])
    assert.deepEqual(second.slice(10), ['A=1'])
    assert.equal(second[5], 'echo two')
    assert.equal(encodeStartRequest(3, options({ env: { B: 'x\0y' } })), null)
  })

  test('the stdin-taken message names the job by pid', () => {
    assert.deepEqual(fieldsOf(encodeStdinTaken(4242)), ['A', '4242'])
  })

  test('each answer line reads as what the launcher meant', () => {
    assert.deepEqual(parseAnswer('R'), { kind: 'ready' })
    assert.deepEqual(parseAnswer('S 3 1234 98765'), { kind: 'started', request: 3, pid: 1234, startTime: '98765' })
    assert.deepEqual(parseAnswer('S 3 1234 -'), { kind: 'started', request: 3, pid: 1234, startTime: null })
    assert.deepEqual(parseAnswer('D 4'), { kind: 'started-before', request: 4 })
    assert.deepEqual(parseAnswer('E 5 /nowhere: No such file or directory'), { kind: 'failed', request: 5, message: '/nowhere: No such file or directory' })
    assert.deepEqual(parseAnswer('X 1234 3 -'), { kind: 'recorder-exit', pid: 1234, code: 3, signal: null })
    assert.deepEqual(parseAnswer('X 1234 - 9'), { kind: 'recorder-exit', pid: 1234, code: null, signal: 'SIGKILL' })
  })
})
