import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { BUILT_CLI } from '../helpers/built-cli.js'
import { spawnServer, type ServerProcess } from '../helpers/cli-process.js'
import { waitFor } from '../helpers/wait.js'

const has = (program: string): boolean => {
  try {
    execFileSync('sh', ['-c', `command -v ${program}`], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
}
const quote = (text: string): string => `'${text.replaceAll("'", "'\\''")}'`

// The attach a person sees, in a real terminal emulator: tmux, driven with send-keys and read
// back with capture-pane and its mode flags.
describe('agent-server attach in tmux', { skip: has('tmux') && has('vi') ? false : 'tmux or vi is not installed here' }, () => {
  let server: ServerProcess
  let stateDir: string
  const socket = `agent-runtime-test-${process.pid}`
  const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' })
  const flags = (): Record<string, string> => Object.fromEntries(
    tmux('display-message', '-p', '-t', 't', 'alternate_on=#{alternate_on} cursor_flag=#{cursor_flag} mouse_any_flag=#{mouse_any_flag} keypad_cursor_flag=#{keypad_cursor_flag} keypad_flag=#{keypad_flag}')
      .trim().split(' ').map((pair) => pair.split('=') as [string, string]))
  const screen = (): string => tmux('capture-pane', '-p', '-t', 't')

  before(async () => {
    stateDir = mkdtempSync(join(tmpdir(), 'cli-attach-tmux-'))
    server = await spawnServer(stateDir, ['--log-level', 'warn'])
  })
  after(async () => {
    try { tmux('kill-server') } catch { /* already gone */ }
    await server.stop()
    rmSync(stateDir, { recursive: true, force: true })
  })

  test('vi with the mouse on, then Ctrl-]: the pane is back in normal mode with the cursor shown and the note below', async () => {
    const attach = `${quote(process.execPath)} ${quote(BUILT_CLI)} attach --url ${quote(server.url)} --key ${quote(server.key)} --shell /bin/sh`
    // Why the sleep: the pane must outlive the attach so that its modes can be read afterwards.
    tmux('new-session', '-d', '-s', 't', '-x', '100', '-y', '30', `${attach}; echo "attach exited $?"; sleep 600`)
    await waitFor(() => screen().includes('Ctrl-] detaches'), 'the attach banner', 20_000)
    tmux('send-keys', '-t', 't', 'vi -u NONE -c "set mouse=a" /tmp/agent-runtime-tmux-test.txt', 'Enter')
    await waitFor(() => { const f = flags(); return f.alternate_on === '1' && f.mouse_any_flag === '1' ? f : undefined }, 'vi on the alternate screen with the mouse on', 20_000)
    tmux('send-keys', '-t', 't', 'C-]')
    const after = await waitFor(() => screen().includes('attach exited') ? screen() : undefined, 'the attach to end', 20_000)
    assert.match(after, /\[detached; the shell keeps running: agent-server attach --session \S+\]\s*\nattach exited 0/)
    assert.deepEqual(flags(), { alternate_on: '0', cursor_flag: '1', mouse_any_flag: '0', keypad_cursor_flag: '0', keypad_flag: '0' })
  })
})
