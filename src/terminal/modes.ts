import type headless from '@xterm/headless'

// DEC private modes the serialize addon does not replay: cursor visibility (DECTCEM) and the
// mouse report encodings (UTF-8, SGR, urxvt, SGR pixels).
const CURSOR_VISIBLE_MODE = 25
const MOUSE_ENCODING_MODES = new Set([1005, 1006, 1015, 1016])

type Params = ReadonlyArray<number | number[]>

const numbers = (params: Params): number[] => params.map((p) => typeof p === 'number' ? p : p[0] ?? 0)

/**
 * Follows, in a server-side screen, the terminal modes that xterm.js's serializer leaves out, so
 * that a reattaching client gets them back: a program that hid the cursor (htop, less, vi) keeps
 * it hidden, a mouse-driven one keeps its report encoding, an editor its cursor shape. The
 * handlers only look: xterm.js still applies every sequence itself.
 */
export class ModeTracker {
  #cursorHidden = false
  #mouseEncoding: number | null = null
  #cursorStyle = 0

  constructor (terminal: headless.Terminal) {
    const { parser } = terminal
    parser.registerCsiHandler({ prefix: '?', final: 'h' }, (params) => this.#decset(numbers(params), true))
    parser.registerCsiHandler({ prefix: '?', final: 'l' }, (params) => this.#decset(numbers(params), false))
    // DECSCUSR (CSI Ps SP q): the cursor's shape.
    parser.registerCsiHandler({ intermediates: ' ', final: 'q' }, (params) => {
      this.#cursorStyle = numbers(params)[0] ?? 0
      return false
    })
    // RIS (ESC c) resets everything; DECSTR (CSI ! p) shows the cursor again.
    parser.registerEscHandler({ final: 'c' }, () => {
      this.#cursorHidden = false
      this.#mouseEncoding = null
      this.#cursorStyle = 0
      return false
    })
    parser.registerCsiHandler({ intermediates: '!', final: 'p' }, () => {
      this.#cursorHidden = false
      return false
    })
  }

  /** Escape sequences that set these modes again on a freshly reset terminal (empty when all are at their defaults). */
  replay (): string {
    return (this.#mouseEncoding !== null ? `\u001b[?${this.#mouseEncoding}h` : '') +
      (this.#cursorStyle !== 0 ? `\u001b[${this.#cursorStyle} q` : '') +
      (this.#cursorHidden ? `\u001b[?${CURSOR_VISIBLE_MODE}l` : '')
  }

  #decset (modes: number[], on: boolean): boolean {
    for (const mode of modes) {
      if (mode === CURSOR_VISIBLE_MODE) this.#cursorHidden = !on
      else if (MOUSE_ENCODING_MODES.has(mode)) {
        if (on) this.#mouseEncoding = mode
        else if (this.#mouseEncoding === mode) this.#mouseEncoding = null
      }
    }
    return false
  }
}
