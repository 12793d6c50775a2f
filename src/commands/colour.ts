import type { Writable } from 'node:stream'

/**
 * True when colour may be written to `stream`: it is a terminal and `NO_COLOR` is not set (any
 * value, even empty, turns colour off). The one test every coloured output of the CLI uses.
 */
export function colourAllowed (stream: Writable & { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  return stream.isTTY === true && env.NO_COLOR === undefined
}

const CODES = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const

/** A painter for `stream`: wraps text in an SGR colour when allowed, else returns it unchanged. */
export function painter (stream: Writable & { isTTY?: boolean }, env: NodeJS.ProcessEnv): (colour: keyof typeof CODES, text: string) => string {
  const allowed = colourAllowed(stream, env)
  return (colour, text) => allowed ? `\u001b[${CODES[colour]}m${text}\u001b[0m` : text
}
