import type { AcpJobRequest, FileListing, Job, SessionInfo, SessionJobRequest, ShellJobRequest } from '../client/index.js'

/** What a job read asks for: a tail of lines, or the bytes after offsets. */
export interface JobRead {
  tailLines?: number | undefined
  stdoutOffset?: number | undefined
  stderrOffset?: number | undefined
  /** At most this many bytes of each stream (never more than the server's inline output limit). */
  maxBytes?: number | undefined
}

/**
 * What the MCP tools need from a server: in-process (the app's own JobManager and files core)
 * or remote (RuntimeClient, for `agent-server mcp --stdio`). One set of tools runs on either.
 */
export interface McpBackend {
  /** Queues a shell job; resolves its id. */
  submit: (request: ShellJobRequest) => Promise<string>
  /** Queues one command of a persistent shell session (`mode: "persistent_shell"`); resolves its job id. */
  submitSession: (request: SessionJobRequest) => Promise<string>
  /** Every persistent shell session, sorted by key (as GET /sessions). */
  sessions: () => Promise<SessionInfo[]>
  /** Queues an ACP (coding agent) job; resolves its id. */
  submitAgent: (request: AcpJobRequest) => Promise<string>
  /** The job as GET /jobs/:id shows it. */
  job: (jobId: string, read?: JobRead) => Promise<Job>
  /** Resolves when the job has finished, `timeoutMs` passed or `signal` aborted (whichever first). */
  waitFinished: (jobId: string, timeoutMs: number, signal: AbortSignal) => Promise<void>
  kill: (jobId: string, signal?: string) => Promise<{ jobId: string, status: string, signal: string | null }>
  writeStdin: (jobId: string, data: string, eof: boolean) => Promise<{ written: number }>
  /** A file's first `maxBytes` bytes and its size; paths follow the files API's rules (root, confinement). */
  readFile: (path: string, maxBytes: number) => Promise<{ path: string, size: number, bytes: Uint8Array }>
  /** A file as a stream of bytes from its start, with its size; breaking out of `chunks` releases it. Same path rules as readFile. */
  openFile: (path: string) => Promise<{ path: string, size: number, chunks: AsyncIterable<Uint8Array> }>
  /** Writes a file atomically (temp file + rename); resolves whether it was created. */
  writeFile: (path: string, content: string, mkdir: boolean) => Promise<{ path: string, created: boolean }>
  listDirectory: (path: string, recursive: boolean, limit: number) => Promise<FileListing>
  /** The absolute path the files API would use for `path` (relative to the files root, confinement checked); it must exist. */
  resolvePath: (path: string) => Promise<string>
}
