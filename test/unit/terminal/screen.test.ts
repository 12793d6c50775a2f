import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { Screen } from '../../../src/terminal/screen.js'

describe('server-side screen', () => {
  test('a snapshot includes everything written before it', async () => {
    const screen = new Screen(40, 5)
    screen.write('first line\r\n')
    screen.write('second ')
    screen.write('line')
    assert.match(await screen.snapshot(), /first line\r\nsecond line/)
    screen.close()
  })

  test('a full-screen program is replayed in the alternate screen, above what was there before', async () => {
    const screen = new Screen(40, 5)
    screen.write('prompt$ vi notes\r\n')
    screen.write('\u001b[?1049h\u001b[H\u001b[2Jediting notes\r\n~\r\n~')
    const snapshot = await screen.snapshot()
    assert.ok(snapshot.includes('prompt$ vi notes'))
    assert.ok(snapshot.indexOf('\u001b[?1049h') < snapshot.indexOf('editing notes'), 'switches to the alternate screen first')
    screen.close()
  })

  test('a flood larger than the backlog keeps its last lines and the snapshot still completes', async () => {
    const screen = new Screen(80, 24)
    for (let i = 1; i <= 200_000; i++) screen.write(`flood line ${i}\r\n`)
    const snapshot = await screen.snapshot()
    assert.ok(snapshot.includes('flood line 200000'))
    screen.close()
  })

  test('after close, writes are ignored and a snapshot is empty', async () => {
    const screen = new Screen(40, 5)
    screen.write('x')
    screen.close()
    screen.write('y')
    assert.equal(await screen.snapshot(), '')
  })
})

describe('server-side screen: modes the replay restores', () => {
  test('a hidden cursor stays hidden in the replay, and a shown one is not hidden', async () => {
    const screen = new Screen(40, 5)
    screen.write('htop-like\u001b[?25l')
    assert.ok((await screen.snapshot()).endsWith('\u001b[?25l'))
    screen.write('\u001b[?25h')
    assert.ok(!(await screen.snapshot()).includes('\u001b[?25l'))
    screen.close()
  })

  test('mouse reporting comes back with its encoding, and the cursor shape with it', async () => {
    const screen = new Screen(40, 5)
    screen.write('\u001b[?1000h\u001b[?1006h\u001b[6 q')
    const snapshot = await screen.snapshot()
    assert.ok(snapshot.includes('\u001b[?1000h'), 'tracking (from the serializer)')
    assert.ok(snapshot.includes('\u001b[?1006h'), 'SGR encoding')
    assert.ok(snapshot.includes('\u001b[6 q'), 'bar cursor')
    screen.close()
  })

  test('a full reset forgets the modes, and several modes in one sequence are all followed', async () => {
    const screen = new Screen(40, 5)
    screen.write('\u001b[?25;1006l\u001b[?1006;25l')
    assert.ok((await screen.snapshot()).endsWith('\u001b[?25l'))
    screen.write('\u001bc')
    const snapshot = await screen.snapshot()
    assert.ok(!snapshot.includes('\u001b[?25l') && !snapshot.includes('\u001b[?1006h'), JSON.stringify(snapshot))
    screen.close()
  })
})
