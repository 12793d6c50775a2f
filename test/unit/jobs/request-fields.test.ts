import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import { optionalString } from '../../../src/jobs/request-fields.js'

describe('request fields', () => {
  test('a missing or null string field is null, and an empty string is kept by default', () => {
    assert.equal(optionalString({}, 'stdin'), null)
    assert.equal(optionalString({ stdin: null }, 'stdin'), null)
    assert.equal(optionalString({ stdin: '' }, 'stdin'), '')
    assert.equal(optionalString({ stdin: 'a' }, 'stdin'), 'a')
  })

  test('with empty "absent", an empty string reads as a missing field (devpilot\'s `if not value`)', () => {
    assert.equal(optionalString({ model: '' }, 'model', 'absent'), null)
    assert.equal(optionalString({ model: 'm' }, 'model', 'absent'), 'm')
  })

  test('a value of another type is refused with "<name> must be a string"', () => {
    assert.throws(() => optionalString({ shell: 1 }, 'shell'), { code: 'INVALID_REQUEST', message: 'shell must be a string' })
    assert.throws(() => optionalString({ model: false }, 'model', 'absent'), { code: 'INVALID_REQUEST', message: 'model must be a string' })
  })
})
