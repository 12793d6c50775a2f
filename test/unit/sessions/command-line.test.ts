import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { describe, test } from 'node:test'
import { shellQuote } from '../../../src/lib/shell-words.js'
import { commandLine, parseExitRecord } from '../../../src/sessions/command-line.js'

const files = { dir: "/state/jobs/it's", stdout: "/state/jobs/it's/stdout", stderr: "/state/jobs/it's/stderr", exit: "/state/jobs/it's/exit" }
const marker = '0123456789abcdef0123456789abcdef'

describe('session command lines', () => {
  test('shellQuote makes any text one literal word for the shell', () => {
    const text = "a 'b' $HOME `x` \\ \n end"
    const echoed = spawnSync('/bin/sh', ['-c', `printf %s ${shellQuote(text)}`], { encoding: 'utf8' })
    assert.equal(echoed.stdout, text)
  })

  test('an exit record counts only with this command\'s marker and a complete line', () => {
    assert.deepEqual(parseExitRecord(`${marker}:127\n`, marker), { status: 127, bootstrapFailed: false })
    assert.deepEqual(parseExitRecord(`${marker}:bootstrap:5\n`, marker), { status: 5, bootstrapFailed: true })
    assert.equal(parseExitRecord(`${marker}:12`, marker), null)
    assert.equal(parseExitRecord(`${'f'.repeat(32)}:0\n`, marker), null)
    assert.equal(parseExitRecord('', marker), null)
  })

  test('the line parses in every POSIX shell, with and without a bootstrap', () => {
    for (const [kind, shell] of [['bash', 'bash'], ['zsh', 'zsh'], ['sh', 'dash']] as const) {
      for (const bootstrap of [null, '/state/sessions/x/bootstrap']) {
        const line = commandLine(kind, 'job1', marker, files, '/state/sessions/x/stdin.fifo', bootstrap, "echo 'hi'")
        assert.ok(line.endsWith('\n'))
        const checked = spawnSync(shell, ['-n'], { input: line, encoding: 'utf8' })
        assert.equal(checked.status, 0, `${kind}: ${checked.stderr}`)
      }
    }
  })

  test('PowerShell has no line yet', () => {
    assert.throws(() => commandLine('pwsh', 'job1', marker, files, '/x', null), /no session dialect for shell pwsh/)
  })
})
