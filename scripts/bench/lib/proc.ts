import { readFileSync, writeFileSync } from 'node:fs'
import { performance } from 'node:perf_hooks'
import { round } from './stats.js'

// Why: /proc reports CPU times in clock ticks; Linux has used 100 per second on every common build.
const CLOCK_TICKS_PER_SEC = 100

/** A `kB` field of /proc/<pid>/status (VmRSS, VmHWM, …) in bytes, or null when unreadable. */
export function statusBytes (pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB$`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match?.[1] === undefined ? null : Number(match[1]) * 1024
  } catch {
    return null
  }
}

/** Resets the process's peak RSS (VmHWM) to its current RSS; false where the kernel or permissions refuse. */
export function resetPeakRss (pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5')
    return true
  } catch {
    return false
  }
}

/** CPU seconds (user + system) the process has used so far, or null when unreadable. */
export function cpuSeconds (pid: number): number | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1')
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ')
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SEC
  } catch {
    return null
  }
}

/** Busy and total CPU time of the whole machine so far (all cores, from /proc/stat), in clock ticks. */
export function machineCpuTicks (): { busy: number, total: number } {
  try {
    const fields = (/^cpu\s+(.*)$/m.exec(readFileSync('/proc/stat', 'latin1'))?.[1] ?? '').split(/\s+/).map(Number)
    const total = fields.slice(0, 8).reduce((sum, n) => sum + n, 0)
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0)
    return { busy: total - idle, total }
  } catch {
    return { busy: 0, total: 0 }
  }
}

/** Samples VmRSS every `intervalMs` until stopped; `stop()` returns the largest sample (a fallback for VmHWM). */
export function sampleRss (pid: number, intervalMs = 10): { stop: () => number } {
  let max = statusBytes(pid, 'VmRSS') ?? 0
  const timer = setInterval(() => { max = Math.max(max, statusBytes(pid, 'VmRSS') ?? 0) }, intervalMs)
  return {
    stop: () => {
      clearInterval(timer)
      return Math.max(max, statusBytes(pid, 'VmRSS') ?? 0)
    },
  }
}

/** CPU use over a phase, in percent of one core (machine: of all cores). */
export interface CpuShare { serverCpuPct: number, clientCpuPct: number, machineBusyPct: number }

/** Starts measuring CPU use: returns a function that reports the server's, this process's and the machine's share since. */
export function measureCpu (pid: number): () => CpuShare {
  const wall = performance.now()
  const server = cpuSeconds(pid) ?? 0
  const client = process.cpuUsage()
  const machine = machineCpuTicks()
  return () => {
    const seconds = (performance.now() - wall) / 1000
    const used = process.cpuUsage(client)
    const machineNow = machineCpuTicks()
    return {
      serverCpuPct: round((((cpuSeconds(pid) ?? 0) - server) / seconds) * 100, 0),
      clientCpuPct: round(((used.user + used.system) / 1e6 / seconds) * 100, 0),
      machineBusyPct: round(((machineNow.busy - machine.busy) / Math.max(1, machineNow.total - machine.total)) * 100, 0),
    }
  }
}
