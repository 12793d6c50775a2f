import type { Readable, Writable } from 'node:stream'

/** The terminal streams a command talks to (process.std* in the CLI, fakes in tests). */
export interface CommandIo {
  stdin: Readable & { isTTY?: boolean }
  stdout: Writable & { isTTY?: boolean }
  stderr: Writable & { isTTY?: boolean, columns?: number }
}

/** Writes and waits until the stream took the bytes (back-pressure for piped output). */
export async function writeAll (stream: Writable, bytes: Uint8Array | string): Promise<void> {
  if (!stream.write(bytes)) await new Promise((resolve) => stream.once('drain', resolve))
}
