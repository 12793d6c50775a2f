import headless from '@xterm/headless'
import serialize from '@xterm/addon-serialize'
import { ModeTracker } from './modes.js'

// Lines of scrollback a reattaching client gets back above the screen.
const SCROLLBACK_LINES = 1000
// Output waiting to be parsed beyond this is dropped, oldest first (see `write`).
const MAX_BACKLOG_CHARS = 4 * 1024 * 1024
// Output handed to the parser in one go.
const PARSE_BATCH_CHARS = 256 * 1024
// Why: during a flood, parsing at full speed would halve what reaches the clients, so parsing gets
// at most PARSE_BUDGET_CHARS per PARSE_WINDOW_MS (unless a snapshot waits); interactive output
// stays far below that and is parsed at once.
const PARSE_WINDOW_MS = 20
const PARSE_BUDGET_CHARS = 128 * 1024

interface Pending {
  data: string
  /** Called once this output was parsed (or dropped). */
  parsed?: () => void
}

/**
 * A server-side copy of a terminal's screen (a headless xterm.js), so that a client attaching
 * later first receives what is on the screen now — full-screen programs included.
 */
export class Screen {
  readonly #terminal: headless.Terminal
  readonly #serializer = new serialize.SerializeAddon()
  readonly #modes: ModeTracker
  readonly #backlog: Pending[] = []
  #backlogChars = 0
  #inFlight: Array<() => void> = []
  #snapshotsWaiting = 0
  #windowStart = 0
  #parsedInWindow = 0
  #parsing = false
  #closed = false

  constructor (cols: number, rows: number) {
    this.#terminal = new headless.Terminal({ cols, rows, scrollback: SCROLLBACK_LINES, allowProposedApi: true })
    this.#terminal.loadAddon(this.#serializer)
    this.#modes = new ModeTracker(this.#terminal)
  }

  /**
   * Feeds output to the copy. It never slows the terminal down: if parsing falls more than
   * MAX_BACKLOG_CHARS behind (a flood like `cat` of a huge file), the oldest unparsed output is
   * dropped — the screen that follows a flood is made of its last lines anyway.
   */
  write (data: string): void {
    this.#enqueue({ data })
  }

  resize (cols: number, rows: number): void {
    if (!this.#closed) this.#terminal.resize(cols, rows)
  }

  /** The current screen and scrollback, and the terminal's modes, as escape sequences that redraw it on a fresh terminal. */
  async snapshot (): Promise<string> {
    this.#snapshotsWaiting++
    try {
      await new Promise<void>((resolve) => this.#enqueue({ data: '', parsed: resolve }))
    } finally {
      this.#snapshotsWaiting--
    }
    return this.#closed ? '' : this.#serializer.serialize() + this.#modes.replay()
  }

  close (): void {
    if (this.#closed) return
    this.#closed = true
    for (const parsed of this.#inFlight.splice(0)) parsed()
    for (const pending of this.#backlog.splice(0)) pending.parsed?.()
    this.#terminal.dispose()
  }

  #enqueue (pending: Pending): void {
    if (this.#closed) return pending.parsed?.()
    this.#backlog.push(pending)
    this.#backlogChars += pending.data.length
    while (this.#backlogChars > MAX_BACKLOG_CHARS && this.#backlog.length > 1) {
      const dropped = this.#backlog.shift() as Pending
      this.#backlogChars -= dropped.data.length
      dropped.parsed?.()
    }
    if (!this.#parsing) this.#parseNext()
  }

  #parseNext (): void {
    if (this.#closed || this.#backlog.length === 0) {
      this.#parsing = false
      return
    }
    this.#parsing = true
    const now = performance.now()
    if (now - this.#windowStart >= PARSE_WINDOW_MS) {
      this.#windowStart = now
      this.#parsedInWindow = 0
    }
    const allowance = this.#snapshotsWaiting > 0 ? PARSE_BATCH_CHARS : Math.min(PARSE_BATCH_CHARS, PARSE_BUDGET_CHARS - this.#parsedInWindow)
    if (allowance <= 0) {
      setTimeout(() => this.#parseNext(), this.#windowStart + PARSE_WINDOW_MS - now).unref()
      return
    }
    let batch = ''
    const done: Array<() => void> = []
    while (this.#backlog.length > 0 && batch.length < allowance) {
      const pending = this.#backlog.shift() as Pending
      this.#backlogChars -= pending.data.length
      batch += pending.data
      if (pending.parsed) done.push(pending.parsed)
    }
    this.#parsedInWindow += batch.length
    this.#inFlight = done
    this.#terminal.write(batch, () => {
      for (const parsed of this.#inFlight.splice(0)) parsed()
      this.#parseNext()
    })
  }
}
