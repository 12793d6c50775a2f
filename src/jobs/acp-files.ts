// An ACP job's files: the descriptors it appends to, and what is written to each.
import { closeSync, openSync, writeSync } from 'node:fs'
import { transcriptLine } from '../acp/transcript.js'
import type { AcpEvent, RunAcpOptions } from '../acp/types.js'
import type { JobFiles } from '../exec/job-files.js'
import type { Logger } from '../logger.js'

/** The descriptors an ACP job writes: the agent's text, its stderr, the event log, and the transcript when asked for. */
export interface AcpFds { stdout: number, stderr: number, events: number, transcript?: number }

/** Opens the job's files for appending (the transcript too when asked); on a failure, closes those already opened and throws. */
export function openFds (files: JobFiles, transcript = false): AcpFds {
  const opened: number[] = []
  try {
    for (const path of [files.stdout, files.stderr, files.events, ...(transcript ? [files.transcript] : [])]) opened.push(openSync(path, 'a'))
  } catch (err) {
    for (const fd of opened) closeSync(fd)
    throw err
  }
  const [stdout, stderr, events, transcriptFd] = opened as [number, number, number, number | undefined]
  return { stdout, stderr, events, ...(transcriptFd !== undefined ? { transcript: transcriptFd } : {}) }
}

/** Closes every descriptor, logging (not throwing) a failure. */
export function closeFds (fds: AcpFds, log: Logger): void {
  for (const fd of Object.values(fds)) {
    try { closeSync(fd) } catch (err) { log.error({ err }, 'closing a job file failed') }
  }
}

/** The writers of a run's output: each logs (never throws) a failed write. */
export interface AcpFileWriters {
  /** Appends an event to the event log, and an agent text message to stdout. */
  event: (event: AcpEvent) => void
  stderr: NonNullable<RunAcpOptions['onStderr']>
  /** Appends a transcript line; undefined when no transcript was asked for. */
  transcript: NonNullable<RunAcpOptions['onTranscript']> | undefined
}

/** The writers of a run's events, stderr and transcript into `fds`. */
export function acpFileWriters (fds: AcpFds, log: Logger): AcpFileWriters {
  // Why two identical-looking calls: writeSync's string and Buffer overloads do not accept the union.
  const write = (fd: number, text: string | Buffer, what: string): void => {
    try { if (typeof text === 'string') writeSync(fd, text); else writeSync(fd, text) } catch (err) { log.error({ err }, `writing ${what} failed`) }
  }
  return {
    event: (event) => {
      write(fds.events, JSON.stringify(event) + '\n', 'an ACP event')
      const content = event.data.content as { type?: string, text?: unknown } | undefined
      if (event.type === 'message' && content?.type === 'text' && typeof content.text === 'string') write(fds.stdout, content.text, 'agent text')
    },
    stderr: (chunk) => write(fds.stderr, chunk, 'agent stderr'),
    transcript: fds.transcript !== undefined ? (from, message) => write(fds.transcript as number, transcriptLine(from, message as never), 'the ACP transcript') : undefined,
  }
}
