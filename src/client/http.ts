// The HTTP exchange of the client: one request with the API key, and the server's errors as RuntimeError.

/** An error answer of the server (`status`, `code`, `error`), or a failure to reach it (`status` 0). */
export class RuntimeError extends Error {
  override name = 'RuntimeError'
  readonly status: number
  readonly code: string
  readonly error: string

  constructor (status: number, code: string, error: string, options?: { cause?: unknown }) {
    super(status === 0 ? error : `${error} (HTTP ${status} ${code})`, options)
    this.status = status
    this.code = code
    this.error = error
  }
}

/** How one request is made: a JSON body, or a raw (streamed) one, extra headers, an abort signal. */
export type RequestOptions = { body?: unknown, raw?: unknown, headers?: Record<string, string>, signal?: AbortSignal | undefined }

/** One request to the server at `url`: the response when it is 2xx, else a RuntimeError (status 0 when unreachable). */
export async function fetchApi (url: string, apiKey: string | undefined, method: string, path: string, options: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers }
  if (apiKey) headers['x-api-key'] = apiKey
  if (options.body !== undefined) headers['content-type'] = 'application/json'
  let response: Response
  try {
    response = await fetch(url + path, {
      method,
      headers,
      ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
      // Why duplex: fetch streams a request body only in half-duplex mode.
      ...(options.raw !== undefined ? { body: options.raw as BodyInit, duplex: 'half' } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    })
  } catch (err) {
    if (options.signal?.aborted) throw err
    const reason = (err as { cause?: { code?: string, message?: string } }).cause
    // Why the same words as cli.ts's unsettled exit: a peer that closes at once ends fetch either way.
    if (reason?.code === 'UND_ERR_SOCKET') throw new RuntimeError(0, 'UNREACHABLE', 'the connection was closed without an answer (is the URL that of an agent-server?)', { cause: err })
    throw new RuntimeError(0, 'UNREACHABLE', `cannot reach ${url}: ${reason?.code ?? reason?.message ?? (err as Error).message}`, { cause: err })
  }
  if (response.ok) return response
  const text = await response.text()
  let body: { error?: string, code?: string } = {}
  try { body = JSON.parse(text) } catch { /* not JSON */ }
  throw new RuntimeError(response.status, body.code ?? `HTTP_${response.status}`, body.error ?? (text.slice(0, 200) || response.statusText))
}

/** Statuses a request may be sent again after: unreachable (0), 429 and 503. */
export const isRetryableStatus = (status: number): boolean => status === 0 || status === 429 || status === 503

/** The query string (with its `?`) of the defined params; empty when there are none. */
export function queryString (params: object): string {
  const entries = Object.entries(params).filter(([, v]) => v !== undefined && v !== null)
  return entries.length === 0 ? '' : '?' + new URLSearchParams(entries.map(([k, v]): [string, string] => [k, String(v)])).toString()
}
