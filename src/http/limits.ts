import type { ServerOptions } from 'node:http'
import { MAX_HEADER_BYTES } from '../errors.js'

// Time allowed to receive a request's line and headers: slowloris on the head ends here.
export const HEADERS_TIMEOUT_MS = 30_000
// Time allowed to receive a request's body once its head has arrived (JSON bodies are at most
// 4 MiB); enforced by http/body-deadline.ts, except on routes that stream their body (PUT /files).
export const BODY_DEADLINE_MS = 120_000
// How often Node looks for requests past those two limits (its default, 30 s, would add up to 30 s).
const CONNECTIONS_CHECK_INTERVAL_MS = 5_000
// Idle time allowed between two requests of a keep-alive connection (Fastify's default).
export const KEEP_ALIVE_TIMEOUT_MS = 72_000
// A body that will not be read (refused request) is read and discarded up to this size and time
// before the answer, so clients that send it whole (Node's fetch) see the status instead of a reset.
export const DISCARD_MAX_BYTES = 16 * 1024 * 1024
export const DISCARD_WINDOW_MS = 5_000
// Path parameters this long reach the routes, whose schemas refuse them after authentication
// (ids are at most 64 characters); a request line cannot be longer than the head limit anyway.
export const MAX_PARAM_LENGTH = MAX_HEADER_BYTES

/** Options of Node's HTTP(S) server: timeouts above, and a missing Host answered by us (as JSON) rather than by Node. */
export const NODE_SERVER_OPTIONS: ServerOptions = {
  headersTimeout: HEADERS_TIMEOUT_MS,
  // Why off: Node's limit is server-wide and would cut long uploads; see BODY_DEADLINE_MS.
  requestTimeout: 0,
  keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
  connectionsCheckingInterval: CONNECTIONS_CHECK_INTERVAL_MS,
  maxHeaderSize: MAX_HEADER_BYTES,
  requireHostHeader: false,
}
