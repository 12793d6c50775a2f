import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { completeLength, decodeUtf8, leadingContinuationBytes } from '../../../src/lib/utf8.js'

// One character of each encoded length: 1 byte (a), 2 (é), 3 (€), 4 (😀).
const CHARACTERS = ['a', 'é', '€', '😀']

describe('leadingContinuationBytes', () => {
  test('a buffer that starts on a character boundary skips nothing', () => {
    assert.equal(leadingContinuationBytes(Buffer.from('abc')), 0)
    assert.equal(leadingContinuationBytes(Buffer.from('€uro')), 0)
    assert.equal(leadingContinuationBytes(Buffer.alloc(0)), 0)
  })

  test('a buffer that starts inside a character skips to the next character', () => {
    for (const char of CHARACTERS) {
      const bytes = Buffer.from(char + 'z')
      const size = Buffer.byteLength(char)
      for (let cut = 1; cut < size; cut++) {
        assert.equal(leadingContinuationBytes(bytes.subarray(cut)), size - cut, `${char} cut after byte ${cut}`)
      }
    }
  })

  test('at most three bytes are skipped, even when more continuation bytes follow', () => {
    assert.equal(leadingContinuationBytes(Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80])), 3)
  })

  test('a buffer of only continuation bytes is skipped whole', () => {
    assert.equal(leadingContinuationBytes(Buffer.from([0x82, 0xac])), 2)
  })
})

describe('completeLength', () => {
  test('a buffer that ends on a character boundary is complete', () => {
    for (const char of CHARACTERS) {
      const bytes = Buffer.from('x' + char)
      assert.equal(completeLength(bytes), bytes.length, char)
    }
    assert.equal(completeLength(Buffer.alloc(0)), 0)
  })

  test('a character cut at any position is left out whole', () => {
    for (const char of CHARACTERS) {
      const full = Buffer.from('ab' + char)
      for (let cut = 3; cut < full.length; cut++) {
        assert.equal(completeLength(full.subarray(0, cut)), 2, `${char} cut to ${cut - 2} of ${full.length - 2} bytes`)
      }
    }
  })

  test('a buffer holding only the start of one character has no complete length', () => {
    assert.equal(completeLength(Buffer.from('😀').subarray(0, 3)), 0)
    assert.equal(completeLength(Buffer.from('é').subarray(0, 1)), 0)
  })

  test('a stray continuation byte at the end is kept (it is invalid, not unfinished)', () => {
    const bytes = Buffer.from([0x61, 0x80])
    assert.equal(completeLength(bytes), 2)
  })

  // Fails with the current src: 0xF5–0xFF are taken for the lead of a 3-byte character.
  test('a byte that can never start a character is not held back as unfinished', () => {
    for (const byte of [0xc0, 0xc1, 0xf5, 0xf8, 0xfe, 0xff]) {
      assert.equal(completeLength(Buffer.from([0x61, byte])), 2, `0x${byte.toString(16)}`)
    }
  })
})

describe('decodeUtf8', () => {
  test('valid UTF-8 decodes to the same text', () => {
    const text = 'plain, é, €, 😀, 中文'
    assert.equal(decodeUtf8(Buffer.from(text)), text)
  })

  test('invalid bytes become U+FFFD', () => {
    assert.equal(decodeUtf8(Buffer.from([0x61, 0xff, 0x62])), 'a\uFFFDb')
    assert.equal(decodeUtf8(Buffer.from([0x80])), '\uFFFD')
  })

  test('a cut character at the end becomes U+FFFD', () => {
    assert.equal(decodeUtf8(Buffer.from('a€').subarray(0, 3)), 'a\uFFFD')
  })

  // Fails with the current src: TextDecoder strips a leading U+FEFF unless ignoreBOM is set.
  test('U+FEFF at the start of a chunk is kept, so decoded chunks add up to the decoded whole', () => {
    const whole = Buffer.from('a\uFEFFb')
    assert.equal(decodeUtf8(whole.subarray(0, 1)) + decodeUtf8(whole.subarray(1)), decodeUtf8(whole))
    assert.equal(decodeUtf8(Buffer.from([0xef, 0xbb, 0xbf, 0x61])), '\uFEFFa')
  })
})
