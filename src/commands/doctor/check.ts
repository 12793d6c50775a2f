import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'
import { errorMessage } from '../../lib/error-message.js'

/** The verdict of one doctor check: ok, warn (works, but worth a look) or fail (something will not work). */
export type CheckStatus = 'ok' | 'warn' | 'fail'

/** One line of `agent-server doctor`: what was checked, what was found and, when not ok, the fix. */
export interface CheckResult {
  name: string
  status: CheckStatus
  detail: string
  fix?: string
}

/** A check result; `fix` only when there is one. */
export const result = (name: string, status: CheckStatus, detail: string, fix?: string): CheckResult =>
  fix === undefined ? { name, status, detail } : { name, status, detail, fix }

/** The absolute path of executable `name` on `path`, or null. */
export function findOnPath (name: string, path: string | undefined): string | null {
  for (const dir of (path ?? '').split(delimiter)) {
    if (dir === '') continue
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch { /* not here */ }
  }
  return null
}

/** Runs `work` and turns a throw into a fail line (a check must never end the doctor). */
export async function guarded (name: string, work: () => CheckResult | Promise<CheckResult>, fix: string): Promise<CheckResult> {
  try {
    return await work()
  } catch (err) {
    return result(name, 'fail', errorMessage(err).split('\n')[0] ?? String(err), fix)
  }
}
