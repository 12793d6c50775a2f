import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { isSameProcess, processStartTime, sessionMembers } from '../exec/process-group.js'
import { waitUntil } from '../lib/wait.js'
import type { Logger } from '../logger.js'

// After SIGHUP, how long what is left of an old terminal gets before SIGKILL.
const LEFTOVER_GRACE_MS = 1000
const BOOT_ID_PATH = '/proc/sys/kernel/random/boot_id'

/** One live terminal as written to the state dir: enough to find its processes after a crash. */
interface TerminalRecord {
  id: string
  /** The shell's pid, which is also its session id. */
  pid: number
  /** The shell's start time from /proc (clock ticks since boot), or null without /proc. */
  startTime: string | null
  /** The kernel's boot id: pids of another boot mean nothing. */
  bootId: string | null
}

function readBootId (): string | null {
  try { return readFileSync(BOOT_ID_PATH, 'utf8').trim() } catch { return null }
}

/**
 * The terminals of this server, one small file each in `<state dir>/terminals/`, so that a
 * server killed without a chance to end them (SIGKILL, power loss of the process) ends what is
 * left of their sessions at its next start.
 */
export class TerminalRecords {
  readonly #dir: string
  readonly #log: Logger
  readonly #bootId = readBootId()

  constructor (dir: string, log: Logger) {
    this.#dir = dir
    this.#log = log
  }

  /** Records a live terminal. A failure is logged: the terminal works without its record. */
  add (id: string, pid: number): void {
    const record: TerminalRecord = { id, pid, startTime: processStartTime(pid), bootId: this.#bootId }
    try {
      mkdirSync(this.#dir, { recursive: true, mode: 0o700 })
      const path = join(this.#dir, `${id}.json`)
      // Why write-then-rename: a crash mid-write must not leave half a record.
      writeFileSync(path + '.tmp', JSON.stringify(record), { mode: 0o600 })
      renameSync(path + '.tmp', path)
    } catch (err) {
      this.#log.warn({ err, terminalId: id }, 'could not record the terminal; a crash would leave its processes behind')
    }
  }

  /** Forgets a terminal whose processes are all gone. */
  remove (id: string): void {
    try {
      rmSync(join(this.#dir, `${id}.json`), { force: true })
    } catch (err) {
      this.#log.warn({ err, terminalId: id }, 'could not remove the terminal record')
    }
  }

  /**
   * Ends every process left of the terminals recorded by a previous server (SIGHUP, then SIGKILL
   * after a grace) and forgets them. Resolves with the number of processes signalled.
   */
  async endLeftovers (): Promise<number> {
    let files: string[]
    try {
      files = readdirSync(this.#dir)
    } catch {
      return 0
    }
    let signalled = 0
    for (const file of files) {
      const path = join(this.#dir, file)
      const record = file.endsWith('.json') ? this.#read(path) : null
      if (record) signalled += await this.#endSession(record)
      rmSync(path, { force: true })
    }
    return signalled
  }

  #read (path: string): TerminalRecord | null {
    try {
      const record = JSON.parse(readFileSync(path, 'utf8')) as Partial<TerminalRecord>
      if (!Number.isSafeInteger(record.pid) || (record.pid as number) <= 1 || typeof record.id !== 'string') return null
      return { id: record.id, pid: record.pid as number, startTime: record.startTime ?? null, bootId: record.bootId ?? null }
    } catch (err) {
      this.#log.warn({ err, path }, 'unreadable terminal record ignored')
      return null
    }
  }

  /** Members of the recorded session that are certainly ours; none when the pid now belongs to someone else. */
  #leftovers (record: TerminalRecord): number[] {
    if (record.bootId !== this.#bootId) return []
    const members = sessionMembers(record.pid).filter((pid) => pid > 0)
    if (members.includes(record.pid) && !isSameProcess(record.pid, record.startTime)) return []
    // Why this is enough: Linux does not reuse a pid while a session with that id has members, so
    // with the shell gone its session id still names our session; each member must also have
    // started after the shell did.
    const since = Number(record.startTime ?? 0)
    return members.filter((pid) => Number(processStartTime(pid) ?? 0) >= since)
  }

  async #endSession (record: TerminalRecord): Promise<number> {
    const first = this.#leftovers(record)
    if (first.length === 0) return 0
    const log = this.#log.child({ terminalId: record.id, pid: record.pid })
    log.info({ processes: first.length }, 'ending what is left of a terminal of a previous server')
    const signal = (pids: number[], name: NodeJS.Signals): void => {
      for (const pid of pids) {
        try { process.kill(pid, name) } catch { /* gone meanwhile */ }
      }
    }
    signal(first, 'SIGHUP')
    await waitUntil(() => this.#leftovers(record).length === 0, LEFTOVER_GRACE_MS)
    signal(this.#leftovers(record), 'SIGKILL')
    return first.length
  }
}
