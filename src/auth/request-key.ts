// The API key a request presents, and the request checks shared by the server and the terminal port.
import type { IncomingHttpHeaders } from 'node:http'

/** The key a request presents: `X-API-Key`, or `Authorization: Bearer`. */
export function presentedKey (request: { headers: IncomingHttpHeaders }): string | undefined {
  const header = request.headers['x-api-key']
  if (typeof header === 'string' && header !== '') return header
  const authorization = request.headers.authorization
  const match = authorization === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(authorization)
  return match?.[1]
}

// Query parameters a key could be smuggled in; refused on sockets so keys never end up in URLs and logs.
const KEY_QUERY_PARAMS = new Set(['key', 'apikey', 'api_key', 'api-key', 'token', 'access_token', 'x-api-key'])

/** True when a browser `origin` may call us: listed, or the server's own (`scheme://host[:port]`). */
export function originAllowed (origin: string | undefined, allowed: ReadonlySet<string>, ownOrigin: string): boolean {
  return origin === undefined || allowed.has(origin) || origin === ownOrigin
}

/** True when the query carries something named like an API key. */
export function keyInQuery (query: unknown): boolean {
  return typeof query === 'object' && query !== null && Object.keys(query).some((name) => KEY_QUERY_PARAMS.has(name.toLowerCase()))
}
