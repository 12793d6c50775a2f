import type { SessionTerminalRun, SessionTerminalRunner } from '../acp/types.js'
import { terminalFiles, type JobFiles } from '../exec/job-files.js'
import type { SessionPool } from '../sessions/pool.js'
import type { JobRecord } from './types.js'

/**
 * The runner of an ACP job's terminals in its persistent shell session: each `terminal/create` is
 * one command of the session (queued behind the session's other commands, HTTP jobs included),
 * with its files in the job's folder (`terminalFiles`: `terminals/<terminal>/`, stdout and stderr
 * merged in `output`); `files` are the ACP job's, as the manager places them.
 * The ACP job's workdir and env seed the session when this creates it (devpilot §4.8).
 */
export function sessionTerminalsFor (pool: SessionPool, files: JobFiles, job: JobRecord): SessionTerminalRunner {
  const session = job.spec.acp?.persistentSession
  if (!session) throw new Error(`job ${job.id} has no persistent session`)
  return {
    start: (terminalId, commandLine): SessionTerminalRun => {
      const { dir, output, exit } = terminalFiles(files, terminalId)
      const commandId = `${job.id}-${terminalId}`
      let settle: (status: { exitCode: number | null, signal: string | null }) => void = () => {}
      const ended = new Promise<{ exitCode: number | null, signal: string | null }>((resolve) => { settle = resolve })
      pool.run({
        jobId: commandId,
        sessionKey: session.sessionKey,
        shell: session.shell,
        shellPath: session.shellPath,
        command: commandLine,
        bootstrapCommand: '',
        bootstrapCurrentCommand: false,
        workdir: job.spec.workdir,
        env: job.spec.env,
        files: { dir, stdout: output, stderr: output, exit },
        timeoutMs: 0,
      }, {
        started: () => {},
        finished: (outcome) => { settle({ exitCode: outcome.exitCode, signal: outcome.signal }) },
      })
      const kill = async (): Promise<void> => {
        await pool.terminate(commandId)
        // Why: a pool that detached (server stopping) no longer reports this command's end.
        if (!pool.has(commandId)) settle({ exitCode: null, signal: null })
        await ended
      }
      return { outputPath: output, ended, kill }
    },
  }
}
