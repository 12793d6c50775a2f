import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, test } from 'node:test'
import { Errors } from '../../src/errors.js'

const DOC_PATH = new URL('../../docs/errors.md', import.meta.url)

interface DocRow { code: string, status: number, example: string }

/** The rows of the error table: `| \`CODE\` | status | when | \`{json}\` |`. */
function docRows (): DocRow[] {
  const rows: DocRow[] = []
  for (const line of readFileSync(DOC_PATH, 'utf8').split('\n')) {
    const match = /^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|\s*(\d{3})\s*\|.*\|\s*`(\{.*\})`\s*\|\s*$/.exec(line)
    if (match) rows.push({ code: match[1] ?? '', status: Number(match[2]), example: match[3] ?? '' })
  }
  return rows
}

const catalogue = Object.keys(Errors) as (keyof typeof Errors)[]
/** A pattern for every message the catalogue entry can produce (its `%s` matches anything). */
function messagePattern (code: keyof typeof Errors): RegExp {
  const template = new Errors[code]().message // without arguments, `%s` stays as it is
  const escaped = template.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').split('%s').join('.+')
  return new RegExp(`^${escaped}$`)
}

describe('docs/errors.md', () => {
  test('the table has a row for every code of the catalogue', () => {
    const documented = new Set(docRows().map((row) => row.code))
    const missing = catalogue.filter((code) => !documented.has(code))
    assert.deepEqual(missing, [], `add these codes to docs/errors.md: ${missing.join(', ')}`)
  })

  test('every code in the table exists in the catalogue, once', () => {
    const codes = docRows().map((row) => row.code)
    const unknown = codes.filter((code) => !Object.hasOwn(Errors, code))
    assert.deepEqual(unknown, [], `these documented codes are not in src/errors.ts: ${unknown.join(', ')}`)
    assert.equal(new Set(codes).size, codes.length, 'a code is documented twice')
  })

  test('each row gives the status the server answers with', () => {
    for (const row of docRows()) {
      if (!Object.hasOwn(Errors, row.code)) continue
      const err = new Errors[row.code as keyof typeof Errors]('x') as { statusCode?: number }
      assert.equal(row.status, err.statusCode, row.code)
    }
  })

  test('each example body is the {error, code} JSON the server sends for that code', () => {
    for (const row of docRows()) {
      if (!Object.hasOwn(Errors, row.code)) continue
      const body = JSON.parse(row.example) as Record<string, unknown>
      assert.deepEqual(Object.keys(body).sort(), ['code', 'error'], row.code)
      assert.equal(body.code, row.code)
      assert.match(String(body.error), messagePattern(row.code as keyof typeof Errors), row.code)
    }
  })

  test('the introduction says every error is JSON {error, code} and error is devpilot-compatible', () => {
    const text = readFileSync(DOC_PATH, 'utf8')
    assert.match(text, /\{"error": "<human message>", "code": "<STABLE_CODE>"\}/)
    assert.match(text, /devpilot-compatible/)
  })
})
