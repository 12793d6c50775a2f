import { execFile, execFileSync } from 'node:child_process'

/** What one wrk run reported. */
export interface WrkResult {
  requestsPerSec: number
  requests: number
  errors: number
}

/** The path of `wrk` when it is installed, else null (the benchmark then uses its own Node load loops). */
export function findWrk (): string | null {
  try {
    return execFileSync('sh', ['-c', 'command -v wrk'], { encoding: 'utf8' }).trim() || null
  } catch {
    return null
  }
}

/** Runs wrk with one thread (the machine is small) against `url` with the API key header. */
export function runWrk (wrk: string, url: string, key: string, connections: number, durationSec: number): Promise<WrkResult> {
  const args = ['-t1', `-c${connections}`, `-d${durationSec}s`, '-H', `X-API-Key: ${key}`, url]
  return new Promise((resolve, reject) => {
    execFile(wrk, args, { encoding: 'utf8', timeout: (durationSec + 30) * 1000 }, (err, stdout) => {
      if (err) {
        reject(err)
        return
      }
      const number = (pattern: RegExp): number => Number(pattern.exec(stdout)?.[1] ?? 0)
      const requestsPerSec = number(/Requests\/sec:\s+([\d.]+)/)
      if (requestsPerSec === 0) {
        reject(new Error(`cannot read wrk output:\n${stdout}`))
        return
      }
      const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout)
      const errors = number(/Non-2xx or 3xx responses: (\d+)/) +
        (socketErrors ? socketErrors.slice(1).reduce((sum, n) => sum + Number(n), 0) : 0)
      resolve({ requestsPerSec, requests: number(/(\d+) requests in/), errors })
    })
  })
}
