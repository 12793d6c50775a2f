import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ShellWordsError, splitShellWords } from '../../../src/lib/shell-words.js'

test('a command line splits into words the way a POSIX shell would, with nothing expanded', () => {
  const cases: Array<[string, string[]]> = [
    ['copilot --acp --stdio', ['copilot', '--acp', '--stdio']],
    ['  a \t b\n c  ', ['a', 'b', 'c']],
    ["node 'my agent.js' --name=\"x y\"", ['node', 'my agent.js', '--name=x y']],
    ['echo "a \\"q\\" \\$HOME \\x"', ['echo', 'a "q" $HOME \\x']],
    ["a\\ b 'it''s' ''", ['a b', 'its', '']],
    ['echo $HOME * ~', ['echo', '$HOME', '*', '~']],
    ['', []],
  ]
  for (const [line, words] of cases) assert.deepEqual(splitShellWords(line), words, line)
})

test('unterminated quotes and a trailing backslash are errors', () => {
  for (const line of ["a 'b", 'a "b', 'a \\']) assert.throws(() => splitShellWords(line), ShellWordsError, line)
})
