import type { Job } from '../client/index.js'

// What a tool result shows of one output stream: the first and the last bytes, the middle omitted.
export const MODEL_HEAD_BYTES = 8 * 1024
export const MODEL_TAIL_BYTES = 8 * 1024

/** Output cut for a model: head + tail, with how many bytes were left out (of `totalBytes`, when more were written). */
export function capForModel (text: string, totalBytes = Buffer.byteLength(text)): { text: string, omittedBytes: number } {
  const bytes = Buffer.from(text)
  const hiddenBefore = Math.max(0, totalBytes - bytes.length)
  if (bytes.length <= MODEL_HEAD_BYTES + MODEL_TAIL_BYTES) {
    return { text: hiddenBefore > 0 ? `[… ${hiddenBefore} earlier bytes omitted …]\n${text}` : text, omittedBytes: hiddenBefore }
  }
  const omitted = bytes.length - MODEL_HEAD_BYTES - MODEL_TAIL_BYTES + hiddenBefore
  // Why toString: a cut inside a UTF-8 sequence becomes U+FFFD instead of a broken string.
  const head = bytes.subarray(0, MODEL_HEAD_BYTES).toString()
  const tail = bytes.subarray(bytes.length - MODEL_TAIL_BYTES).toString()
  return { text: `${head}\n[… ${omitted} bytes omitted …]\n${tail}`, omittedBytes: omitted }
}

/** What a tool returns about a job: its state, and both streams capped for a model. */
export function jobSummary (job: Job): Record<string, unknown> {
  const stdout = capForModel(job.stdout ?? '', job.stdoutBytes)
  const stderr = capForModel(job.stderr ?? '', job.stderrBytes)
  return {
    jobId: job.jobId,
    status: job.status,
    running: job.status === 'pending' || job.status === 'running',
    exitCode: job.exitCode ?? null,
    ...(job.error ? { error: job.error } : {}),
    durationMs: job.durationMs ?? null,
    stdout: stdout.text,
    stdoutBytes: job.stdoutBytes ?? 0,
    stdoutOmittedBytes: stdout.omittedBytes,
    stderr: stderr.text,
    stderrBytes: job.stderrBytes ?? 0,
    stderrOmittedBytes: stderr.omittedBytes,
  }
}

/** The text rendering of a job summary, for clients that show only text. */
export function renderJob (summary: Record<string, unknown>): string {
  const state = summary.running === true
    ? `job ${summary.jobId as string} is still ${summary.status as string}; poll it with job_status or job_output`
    : `job ${summary.jobId as string} ${summary.status as string} (exit code ${String(summary.exitCode)})${summary.error ? `: ${summary.error as string}` : ''}`
  const parts = [state]
  if (summary.stdout) parts.push(`stdout:\n${summary.stdout as string}`)
  if (summary.stderr) parts.push(`stderr:\n${summary.stderr as string}`)
  return parts.join('\n')
}
