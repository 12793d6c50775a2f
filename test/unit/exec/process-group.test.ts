import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { afterEach, describe, test } from 'node:test'
import { groupAlive, isSameProcess, isSignalName, killGroupAfter, processStartTime, signalGroup, signalName, terminateGroup } from '../../../src/exec/process-group.js'
import { procStat } from '../../helpers/processes.js'
import { waitFor } from '../../helpers/wait.js'

const onLinux = process.platform === 'linux'
const linuxOnly = { skip: onLinux ? false : 'needs /proc' }

// Process groups started by a test; each is killed and awaited after the test.
const groups: number[] = []

afterEach(async () => {
  for (const pgid of groups.splice(0)) {
    try { process.kill(-pgid, 'SIGKILL') } catch { /* already gone */ }
    await waitFor(() => !groupAlive(pgid), `process group ${pgid} to end`)
  }
})

/** Starts `sh -c script` as the leader of a new process group and returns it. */
function startGroup (script: string): ChildProcess & { pid: number } {
  const child = spawn('/bin/sh', ['-c', script], { detached: true, stdio: ['ignore', 'pipe', 'ignore'] })
  assert.ok(child.pid !== undefined, 'spawn failed')
  groups.push(child.pid)
  return child as ChildProcess & { pid: number }
}

/** The first line the child prints. */
async function firstLine (child: ChildProcess): Promise<string> {
  let text = ''
  for await (const chunk of child.stdout ?? []) {
    text += String(chunk)
    if (text.includes('\n')) break
  }
  return text.split('\n')[0] ?? ''
}

/** A pid that cannot belong to any process: one above the kernel's maximum. */
function impossiblePid (): number {
  try { return Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8')) + 1 } catch { return 2 ** 22 + 1 }
}

describe('signal names', () => {
  test('signal numbers map to their names', () => {
    assert.equal(signalName(9), 'SIGKILL')
    assert.equal(signalName(15), 'SIGTERM')
    assert.equal(signalName(2), 'SIGINT')
  })

  test('an unknown signal number has no name', () => {
    assert.equal(signalName(12345), undefined)
    assert.equal(signalName(-1), undefined)
  })

  test('only real signal names are recognised', () => {
    for (const name of ['SIGTERM', 'SIGKILL', 'SIGINT', 'SIGHUP', 'SIGUSR1']) assert.equal(isSignalName(name), true, name)
    for (const name of ['SIGFOO', 'sigterm', 'TERM', '', 'toString', '__proto__', '9']) assert.equal(isSignalName(name), false, name)
  })
})

describe('process identity', () => {
  test('the start time of a live process is a number of clock ticks', linuxOnly, () => {
    const start = processStartTime(process.pid)
    assert.equal(typeof start, 'string')
    assert.match(start ?? '', /^\d+$/)
    assert.equal(processStartTime(process.pid), start, 'the start time is stable')
  })

  test('a process that does not exist has no start time', () => {
    assert.equal(processStartTime(impossiblePid()), null)
  })

  test('a live process with the right start time is the same process', linuxOnly, () => {
    assert.equal(isSameProcess(process.pid, processStartTime(process.pid)), true)
  })

  test('a live process is the same process when its start time is unknown', () => {
    assert.equal(isSameProcess(process.pid, null), true)
  })

  test('a live process with a different start time is not the same process (the pid was reused)', linuxOnly, () => {
    const start = Number(processStartTime(process.pid))
    assert.equal(isSameProcess(process.pid, String(start + 1)), false)
  })

  test('a process that has ended is not the same process', async () => {
    const child = spawn('/bin/sh', ['-c', 'exit 0'], { stdio: 'ignore' })
    const pid = child.pid as number
    await once(child, 'exit')
    await waitFor(() => !isSameProcess(pid, null), `process ${pid} to be gone`)
    assert.equal(isSameProcess(impossiblePid(), null), false)
  })

  test('a zombie is not the same process any more', linuxOnly, async () => {
    // Why: the background `sleep 0` is a child of the exec'd `sleep 60`, which never reaps it.
    const leader = startGroup('sleep 0 & echo $!; exec sleep 60')
    const zombie = Number(await firstLine(leader))
    await waitFor(() => procStat(zombie)?.[0] === 'Z', `process ${zombie} to become a zombie`)
    assert.doesNotThrow(() => process.kill(zombie, 0), 'the zombie still has its pid')
    assert.equal(isSameProcess(zombie, null), false)
  })
})

describe('process groups', () => {
  test('a group is alive while its process runs and gone once it is killed', async () => {
    const leader = startGroup('exec sleep 60')
    assert.equal(groupAlive(leader.pid), true)
    assert.equal(signalGroup(leader.pid, 'SIGKILL'), true)
    await waitFor(() => !groupAlive(leader.pid), 'the group to end')
    assert.equal(groupAlive(leader.pid), false)
  })

  test('a group stays alive while any member runs, even after its leader has ended', async () => {
    const leader = startGroup('sleep 60 & echo $!; wait')
    const member = Number(await firstLine(leader))
    leader.kill('SIGKILL')
    await once(leader, 'exit')
    assert.equal(groupAlive(leader.pid), true, 'the background sleep keeps the group alive')
    assert.equal(isSameProcess(member, null), true)
    signalGroup(leader.pid, 'SIGKILL')
    await waitFor(() => !groupAlive(leader.pid), 'the whole group to end')
    await waitFor(() => !isSameProcess(member, null), 'the member to end')
  })

  test('signalling a group that no longer exists reports false', async () => {
    const leader = startGroup('exec sleep 60')
    signalGroup(leader.pid, 'SIGKILL')
    await waitFor(() => !groupAlive(leader.pid), 'the group to end')
    await waitFor(() => !signalGroup(leader.pid, 0), 'the group to be reaped')
    assert.equal(signalGroup(impossiblePid(), 0), false)
  })

  test('signalling never throws: an error other than "no such group" (here EINVAL) reports false', () => {
    const leader = startGroup('exec sleep 60')
    assert.equal(signalGroup(leader.pid, 999 as unknown as NodeJS.Signals), false)
    assert.equal(groupAlive(leader.pid), true, 'the group was not touched')
  })
})

describe('stopping a process group', () => {
  test('terminating a group that ignores SIGTERM SIGKILLs it after the grace and resolves once it is gone', async () => {
    const leader = startGroup("trap '' TERM; echo ready; exec sleep 60")
    assert.equal(await firstLine(leader), 'ready')
    let killed = false
    await terminateGroup(leader.pid, 200, undefined, () => { killed = true })
    assert.equal(killed, true, 'the SIGKILL stage ran')
    assert.equal(groupAlive(leader.pid), false)
  })

  test('terminating a group that ends on SIGTERM sends no SIGKILL', async () => {
    const leader = startGroup('exec sleep 60')
    let killed = false
    await terminateGroup(leader.pid, 60_000, undefined, () => { killed = true })
    assert.equal(killed, false)
    assert.equal(groupAlive(leader.pid), false)
  })

  test('terminating a group that is gone already sends nothing', async () => {
    let killed = false
    await terminateGroup(impossiblePid(), 0, undefined, () => { killed = true })
    assert.equal(killed, false)
  })

  test('a later kill SIGKILLs a group still running after the grace, after its beforeKill hook', async () => {
    const leader = startGroup("trap '' TERM; echo ready; exec sleep 60")
    assert.equal(await firstLine(leader), 'ready')
    let aliveBeforeKill: boolean | undefined
    const timer = killGroupAfter(leader.pid, 50, () => true, { beforeKill: () => { aliveBeforeKill = groupAlive(leader.pid) } })
    try {
      await waitFor(() => !groupAlive(leader.pid), 'the group to be killed')
      assert.equal(aliveBeforeKill, true)
    } finally {
      timer.clear()
    }
  })

  test('a later kill with no group left to signal calls ifNoGroup', async () => {
    let noGroup = false
    const timer = killGroupAfter(impossiblePid(), 0, () => true, { ifNoGroup: () => { noGroup = true } })
    try {
      await waitFor(() => noGroup, 'ifNoGroup to run')
    } finally {
      timer.clear()
    }
  })
})
