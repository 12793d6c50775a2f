import assert from 'node:assert/strict'
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { LAUNCHER_BINARY } from '../../../src/exec/job-starter.js'
import { encodePrepareRequest, parseAnswer } from '../../../src/exec/launcher-protocol.js'
import { waitFor } from '../../helpers/wait.js'

const built = existsSync(LAUNCHER_BINARY)
const SCHED_IDLE = 5
const PREPARED_FILES = ['exit.ready', 'launch.ready', 'stderr', 'stdin', 'stdout']

/** The launcher binary spoken to directly: its answers to prepare requests, by request number. */
function startLauncher (): { child: ChildProcessWithoutNullStreams, answers: Map<number, string[]> } {
  const child = spawn(LAUNCHER_BINARY, [], { stdio: 'pipe', env: {} })
  child.stdin.on('error', () => { /* EPIPE once a test killed it */ })
  const answers = new Map<number, string[]>()
  let rest = ''
  child.stdout.setEncoding('latin1')
  child.stdout.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\n')
    rest = lines.pop() ?? ''
    for (const line of lines) {
      const answer = parseAnswer(line)
      if (answer.kind !== 'prepared' && answer.kind !== 'failed') continue
      answers.set(answer.request, [...answers.get(answer.request) ?? [], answer.kind])
    }
  })
  return { child, answers }
}

/** The launcher's children that run under SCHED_IDLE (field 41 of /proc/<pid>/stat): its preparer. */
function idleChildren (launcherPid: number): number[] {
  let children: string
  try {
    children = readFileSync(`/proc/${launcherPid}/task/${launcherPid}/children`, 'utf8')
  } catch {
    return []
  }
  return children.split(' ').filter(Boolean).map(Number).filter((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[38]) === SCHED_IDLE
    } catch {
      return false
    }
  })
}

test('folders are prepared by a fork of the launcher at idle priority; when it is killed, every request is still answered and nothing half made is left', { skip: (!built && 'the launcher is not built') || (process.platform !== 'linux' && 'SCHED_IDLE is Linux only') }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'preparer-'))
  const { child, answers } = startLauncher()
  t.after(() => {
    child.kill('SIGKILL')
    rmSync(root, { recursive: true, force: true })
  })
  // Why busy loops on every CPU: a preparer at idle priority then barely runs, so it is killed mid-way.
  const busy = Array.from({ length: availableParallelism() }, () => spawn('/bin/sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' }))
  const stopBusy = (): void => { for (const loop of busy) loop.kill('SIGKILL') }
  t.after(stopBusy)
  const count = 400
  const dirOf = (request: number): string => join(root, String(request))
  for (let request = 1; request <= count; request++) child.stdin.write(encodePrepareRequest(request, dirOf(request)) as Buffer)

  const [preparer] = await waitFor(() => { const found = idleChildren(child.pid!); return found.length > 0 && found }, 'the preparer at idle priority')
  process.kill(preparer!, 'SIGKILL')
  stopBusy()
  await waitFor(() => answers.size === count, `answers to all ${count} requests (${answers.size} so far)`)

  let prepared = 0
  for (let request = 1; request <= count; request++) {
    const kinds = answers.get(request) ?? []
    if (kinds.includes('prepared')) {
      prepared++
      assert.deepEqual(readdirSync(dirOf(request)).sort(), PREPARED_FILES, `folder ${request} is complete`)
      assert.ok(statSync(join(dirOf(request), 'stdin')).isFIFO())
    } else {
      assert.deepEqual(kinds, ['failed'])
      assert.equal(existsSync(dirOf(request)), false, `folder ${request}, answered failed, is gone`)
    }
  }
  assert.ok(prepared < count, 'the preparer was killed before it had made every folder')

  // A request after that is served by a new preparer.
  child.stdin.write(encodePrepareRequest(count + 1, dirOf(count + 1)) as Buffer)
  await waitFor(() => answers.has(count + 1), 'the answer to a later request')
  assert.deepEqual(answers.get(count + 1), ['prepared'])
  assert.deepEqual(readdirSync(dirOf(count + 1)).sort(), PREPARED_FILES)
})

test('the preparer ends with the launcher', { skip: (!built && 'the launcher is not built') || (process.platform !== 'linux' && 'PR_SET_PDEATHSIG is Linux only') }, async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'preparer-'))
  const { child } = startLauncher()
  t.after(() => rmSync(root, { recursive: true, force: true }))
  for (let request = 1; request <= 400; request++) child.stdin.write(encodePrepareRequest(request, join(root, String(request))) as Buffer)
  const [preparer] = await waitFor(() => { const found = idleChildren(child.pid!); return found.length > 0 && found }, 'the preparer at idle priority')
  child.kill('SIGKILL')
  await waitFor(() => !existsSync(`/proc/${preparer}`) || readFileSync(`/proc/${preparer}/stat`, 'utf8').includes(') Z'), 'the preparer to end')
})
