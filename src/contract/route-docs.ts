// What the OpenAPI document says of each route beyond its schemas: a summary, and the shapes a
// route does not declare to Fastify (the POST /exec body, checked by hand; the page's files).
import { AcpPromptRequestSchema } from './acp-session.js'
import { AcpJobRequestSchema, ExecBodySchema } from './exec-request.js'

const HTML = { 200: { content: { 'text/html': { schema: { type: 'string' } } } } }

/** Documentation by `METHOD url`, merged into the route's schema in the document. */
export const ROUTE_DOCS: Readonly<Record<string, Record<string, unknown>>> = {
  'GET /health': { summary: 'Liveness; the full status with a key (never 401)' },
  'POST /exec': { summary: 'Submit a shell (optionally on a terminal: tty), ACP or persistent-shell job; ?wait=S answers the job once it has finished (or after S seconds, at most 60); ?stream=sse or Accept: text/event-stream streams its events', body: ExecBodySchema },
  'GET /jobs': { summary: 'The newest jobs' },
  'GET /jobs/:id': { summary: 'One job with its output; ?wait= long-polls until it ends' },
  'GET /jobs/:id/stdout': { summary: 'Raw stdout bytes (Range supported)' },
  'GET /jobs/:id/stderr': { summary: 'Raw stderr bytes (Range supported)' },
  'GET /jobs/:id/transcript': { summary: 'An ACP job\'s JSON-RPC transcript (transcript: true), NDJSON bytes (Range supported)' },
  'POST /jobs/:id/nudge': { summary: 'Write a newline to the job\'s stdin (devpilot\'s nudge)' },
  'POST /jobs/:id/stdin': { summary: 'Write text (data) or bytes (dataBase64) to the job\'s stdin, optionally close it' },
  'POST /jobs/:id/resize': { summary: 'Change the window size of a tty job\'s terminal' },
  'POST /jobs/:id/kill': { summary: 'Signal the job\'s process group (ACP: cancel the turn)' },
  'DELETE /jobs/:id': { summary: 'Cancel the job (SIGTERM, then SIGKILL)' },
  'POST /jobs/:id/permission': { summary: 'Answer an ACP permission request (policy ask)' },
  'GET /jobs/:id/events': { summary: 'Live, resumable job events as Server-Sent Events (see JobEvent)' },
  'GET /jobs/:id/stream': { summary: 'The job events over a WebSocket, one JobEvent per message' },
  'POST /terminal/tickets': { summary: 'A single-use 30 s ticket for a browser WebSocket' },
  'GET /terminal': { summary: 'A terminal over a WebSocket (devpilot\'s protocol)' },
  'GET /terminals': { summary: 'The live terminals' },
  'DELETE /terminals/:id': { summary: 'End a terminal' },
  'POST /acp/sessions': { summary: 'Start an agent and an ACP session, and keep it warm (the fields of an ACP job, without prompt)', body: AcpJobRequestSchema },
  'GET /acp/sessions': { summary: 'The warm ACP sessions' },
  'GET /acp/sessions/:id': { summary: 'One warm ACP session: state, queue, agent, modes, models, config options' },
  'DELETE /acp/sessions/:id': { summary: 'Close an ACP session: queued prompts cancelled, session/close, the agent ended' },
  'POST /acp/sessions/:id/prompts': { summary: 'Queue a prompt as an ACP job of the session (one turn at a time, in order)', body: AcpPromptRequestSchema },
  'GET /acp/sessions/:id/history': { summary: 'The prompt turns of an ACP session, with their job ids' },
  'GET /sessions': { summary: 'The persistent shell sessions, sorted by key' },
  'GET /sessions/*': { summary: 'One persistent shell session (the key is the rest of the path, URL-decoded)' },
  'DELETE /sessions/*': { summary: 'End a persistent shell session: every process of it killed, its running command failed' },
  'GET /files': { summary: 'Download a file (Range, If-None-Match), or with format=tar a file or directory as a tar stream' },
  'PUT /files': { summary: 'Upload a file atomically (streamed body), or with extract=1 extract a tar into a directory' },
  'DELETE /files': { summary: 'Delete a file, a symlink or an empty directory (recursive=1: any directory)' },
  'GET /files/stat': { summary: 'What a path is (a symlink not followed), with the ETag of a file' },
  'GET /files/list': { summary: 'The entries of a directory (recursive=1: breadth first), at most limit' },
  'POST /files/move': { summary: 'Rename a path (across file systems: copy, then delete)' },
  'POST /files/mkdir': { summary: 'Create a directory and its parents (201), or find it there (200)' },
  'POST /update': { summary: 'Restart for an update without losing jobs' },
  'GET /': { summary: 'The web terminal page (it asks for the key)', response: HTML },
  'GET /ui': { summary: 'The web terminal page', response: HTML },
  'GET /ui/': { summary: 'The web terminal page', response: HTML },
  'GET /ui/:file': { summary: 'A file of the web terminal page', response: { 200: { description: 'the file' } } },
  'GET /openapi.json': { summary: 'This document (OpenAPI 3.1)', response: { 200: { content: { 'application/json': { schema: { type: 'object' } } } } } },
  'GET /docs': { summary: 'This document, browsable (Swagger UI)', response: HTML },
}
