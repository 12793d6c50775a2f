// HTTP calls to a devpilot dashboard: JSON in, JSON out, each with its own deadline.

/** A dashboard's answer: the HTTP status and the parsed JSON body (undefined when not JSON). */
export interface DashboardAnswer {
  status: number
  body: unknown
  /** The first 200 characters of the body, for a log line. */
  text: string
}

/** Sends `body` as JSON (or a GET without one) and reads the answer; rejects on network errors and deadlines. */
export async function callDashboard (method: 'GET' | 'POST', url: string, body: unknown, timeoutMs: number, signal?: AbortSignal): Promise<DashboardAnswer> {
  const deadline = AbortSignal.timeout(timeoutMs)
  const response = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
    signal: signal ? AbortSignal.any([deadline, signal]) : deadline,
    redirect: 'follow',
  })
  const text = await response.text()
  let parsed: unknown
  try { parsed = JSON.parse(text) } catch { parsed = undefined }
  return { status: response.status, body: parsed, text: text.slice(0, 200) }
}

/** A field of a JSON object answer, or undefined. */
export function field (body: unknown, key: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[key] : undefined
}
