import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { spawnServer, type ServerProcess } from '../helpers/cli-process.js'
import { TerminalClient } from '../helpers/terminal.js'
import { waitFor } from '../helpers/wait.js'

/** True while `pid` is a live (non-zombie) process. */
function alive (pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

function kill (pids: number[]): void {
  for (const pid of pids) {
    try { process.kill(pid, 'SIGKILL') } catch { /* already gone */ }
  }
}

test('after the server is killed with SIGKILL, the next start ends what is left of its terminals, and nothing else', { skip: process.platform !== 'linux' && 'needs /proc' }, async () => {
  const stateDir = mkdtempSync(join(tmpdir(), 'term-crash-'))
  const pids: number[] = []
  const servers: ServerProcess[] = []
  // A process that is not ours, recorded with a pid that now belongs to it but another start time.
  const stranger = spawn('sleep', ['1009'], { detached: true, stdio: 'ignore' })
  pids.push(stranger.pid as number)
  try {
    const first = await spawnServer(stateDir, ['--terminal-port', '0'])
    servers.push(first)
    const client = await TerminalClient.open(`${first.url.replace(/^http/, 'ws')}/terminal?shell=/bin/bash`, { 'x-api-key': first.key })
    await client.sessionId()
    client.type('nohup sleep 1007 >/dev/null 2>&1 & echo "nohup:$!"; (trap "" HUP; exec sleep 1008) & echo "nohup-trap:$!"\r')
    const output = await client.waitForOutput(/nohup-trap:\d+/)
    const survivors = ['nohup', 'nohup-trap'].map((label) => Number(new RegExp(`${label}:(\\d+)`).exec(output)?.[1]))
    pids.push(...survivors)
    assert.ok(survivors.every(alive))

    await first.stop('SIGKILL')
    client.close()
    // Without the next start's clean-up these would live on (the case of the issue).
    assert.ok(survivors.every(alive), 'the nohup processes outlived the killed server')
    mkdirSync(join(stateDir, 'terminals'), { recursive: true })
    writeFileSync(join(stateDir, 'terminals', 'stranger.json'), JSON.stringify({
      id: 'stranger', pid: stranger.pid, startTime: '1', bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
    }))

    const second = await spawnServer(stateDir, ['--terminal-port', '0'])
    servers.push(second)
    await waitFor(() => survivors.every((pid) => !alive(pid)), 'the processes left by the killed server to be ended')
    await waitFor(() => second.output().includes('ended processes left by terminals of a previous server'), 'the clean-up to finish')
    assert.equal(alive(stranger.pid as number), true, 'a process whose pid was reused is not touched')
    assert.equal(await second.stop(), 0, second.output())
  } finally {
    await Promise.all(servers.map((server) => server.stop('SIGKILL')))
    kill(pids)
    rmSync(stateDir, { recursive: true, force: true })
  }
})
