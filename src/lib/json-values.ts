// Small tests of parsed JSON values, shared by the request parsers (jobs, sessions).

/** True for a JSON object (not null, not an array). */
export const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * True where Python's `not v` is true: null, false, 0, '', [] and {}.
 * Why: devpilot validated with `if not x`, and its callers rely on which values that refuses.
 */
export const isPythonFalsy = (v: unknown): boolean =>
  !v || (Array.isArray(v) && v.length === 0) || (isPlainObject(v) && Object.keys(v).length === 0)
