import { readdirSync, readFileSync } from 'node:fs'
import { constants } from 'node:os'
import { setLongTimeout, type LongTimer } from '../lib/long-timer.js'
import { waitUntil } from '../lib/wait.js'

const SIGNAL_NAMES = new Map<number, string>(
  Object.entries(constants.signals).map(([name, number]) => [number, name])
)

/** The signal's name for a number (9 → "SIGKILL"), or undefined. */
export function signalName (signal: number): string | undefined {
  return SIGNAL_NAMES.get(signal)
}

/** True if `name` is a signal this platform knows. */
export function isSignalName (name: string): name is NodeJS.Signals {
  return Object.hasOwn(constants.signals, name)
}

/**
 * Sends a signal to every process of a group; false when it could not: the group no longer exists
 * (ESRCH), or is not ours to signal (EPERM: its id now belongs to another user's processes).
 * Never throws: it runs in cleanup paths (kill sequences, shutdowns) that must not reject.
 */
export function signalGroup (pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal)
    return true
  } catch {
    return false
  }
}

// How long a group has to be gone after SIGKILL before a terminate gives up waiting.
const AFTER_KILL_WAIT_MS = 5000

/**
 * SIGTERM to group `pgid`, then SIGKILL after `graceMs` unless `gone()` holds by then; resolves
 * once `gone()` holds (or 5 s after the SIGKILL). `onKill` runs just before the SIGKILL. Nothing is
 * sent when the group is gone already. Never rejects.
 */
export async function terminateGroup (pgid: number, graceMs: number, gone: () => boolean = () => !groupAlive(pgid), onKill?: () => void): Promise<void> {
  if (gone()) return
  signalGroup(pgid, 'SIGTERM')
  if (await waitUntil(gone, graceMs)) return
  onKill?.()
  signalGroup(pgid, 'SIGKILL')
  await waitUntil(gone, AFTER_KILL_WAIT_MS)
}

/** What `killGroupAfter` does around its SIGKILL. */
export interface GroupKillHooks {
  /** Runs just before the SIGKILL (e.g. to log it). */
  beforeKill?: () => void
  /** Runs when no group was left to SIGKILL (e.g. to kill the lone leader instead). */
  ifNoGroup?: () => void
}

/**
 * The last stage of a stop whose first signal the caller sent: after `graceMs` (a config value,
 * hence a long timer), SIGKILLs group `pgid` if `running()` still holds. Clear the timer once the
 * process has ended. Never throws.
 */
// Why a group: execa's kill reaches only the direct child, and a background process of a command
// keeps its pipes (and execa's promise) open.
export function killGroupAfter (pgid: number, graceMs: number, running: () => boolean, hooks: GroupKillHooks = {}): LongTimer {
  return setLongTimeout(() => {
    if (!running()) return
    hooks.beforeKill?.()
    if (!signalGroup(pgid, 'SIGKILL')) hooks.ifNoGroup?.()
  }, graceMs)
}

/** True while any live (non-zombie) process is left in the group. */
export function groupAlive (pgid: number): boolean {
  if (!signalGroup(pgid, 0)) return false
  if (process.platform !== 'linux') return true
  // Why: zombies still count for kill(-pgid, 0); a process that is only waiting to be reaped is gone for us.
  return groupMembers(pgid).some((pid) => procState(pid) !== 'Z')
}

function groupMembers (pgid: number): number[] {
  return procMembers(2, pgid) ?? [pgid]
}

/**
 * Live (non-zombie) processes of session `sid` — a terminal's shell and everything started from
 * it, `nohup` and disowned jobs included. Without /proc (macOS) only the leader's group is known.
 */
export function sessionMembers (sid: number): number[] {
  const members = procMembers(3, sid)
  if (members) return members.filter((pid) => procState(pid) !== 'Z')
  return signalGroup(sid, 0) ? [-sid] : []
}

/** Sends a signal to every process of session `sid`; the number of processes signalled. */
export function signalSession (sid: number, signal: NodeJS.Signals): number {
  let signalled = 0
  for (const pid of sessionMembers(sid)) {
    try {
      process.kill(pid, signal)
      signalled++
    } catch { /* gone meanwhile */ }
  }
  return signalled
}

/** Pids whose /proc stat field `field` (2 = pgrp, 3 = session) equals `value`; undefined without /proc. */
function procMembers (field: number, value: number): number[] | undefined {
  let entries: string[]
  try { entries = readdirProc() } catch { return undefined }
  const members: number[] = []
  for (const entry of entries) {
    const stat = procStat(Number(entry))
    if (stat && Number(stat[field]) === value) members.push(Number(entry))
  }
  return members
}

function readdirProc (): string[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e))
}

/** Fields of /proc/<pid>/stat after the command name: [state, ppid, pgrp, session, ...]. */
function procStat (pid: number): string[] | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'latin1')
    return text.slice(text.lastIndexOf(')') + 2).split(' ')
  } catch {
    return undefined
  }
}

function procState (pid: number): string | undefined {
  return procStat(pid)?.[0]
}

/** The process's start time (clock ticks since boot, from /proc), or null where /proc is missing. */
export function processStartTime (pid: number): string | null {
  return procStat(pid)?.[19] ?? null
}

/** True when `pid` is alive, not a zombie, and (when known) started at `startTime`: the same process. */
export function isSameProcess (pid: number, startTime: string | null): boolean {
  try {
    process.kill(pid, 0)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false
  }
  const stat = procStat(pid)
  if (!stat) return process.platform !== 'linux'
  if (stat[0] === 'Z') return false
  return startTime === null || stat[19] === startTime
}
