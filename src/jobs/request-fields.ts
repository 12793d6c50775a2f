// Small checks shared by the request parsers of POST /exec (shell fields and ACP fields).
import { Errors } from '../errors.js'

/** How an empty string is read: as the value '' (`keep`), or as if the field were absent (`absent`). */
export type EmptyString = 'keep' | 'absent'

/**
 * The string field `name` of a body, or null when it is missing or null; any other type is a 400
 * "<name> must be a string". `''` is a value by default (an empty stdin is an empty stdin); the
 * ACP fields pass `absent` because devpilot read them with `if not value`, where '' is false.
 */
export function optionalString (body: Record<string, unknown>, name: string, empty: EmptyString = 'keep'): string | null {
  const value = body[name]
  if (value === undefined || value === null || (value === '' && empty === 'absent')) return null
  if (typeof value !== 'string') throw new Errors.INVALID_REQUEST(`${name} must be a string`)
  return value
}
