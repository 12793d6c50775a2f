import { Transform, type Writable } from 'node:stream'

const REDRAW_MS = 100
const MiB = 1024 * 1024

const sizeText = (bytes: number): string => bytes < MiB ? `${(bytes / 1024).toFixed(1)} KiB` : `${(bytes / MiB).toFixed(1)} MiB`

/**
 * A pass-through that draws `label  done / total  pct  speed` on one terminal line while bytes
 * flow (at most every 100 ms) and ends the line when they stop; `total` null shows bytes only.
 */
export function progressBar (out: Writable, label: string, total: number | null): Transform {
  const startedAt = Date.now()
  let done = 0
  let drawnAt = 0
  const draw = (): void => {
    drawnAt = Date.now()
    const seconds = Math.max(0.001, (drawnAt - startedAt) / 1000)
    const pct = total ? `  ${Math.floor((done / total) * 100)}%` : ''
    out.write(`\r\x1b[2K${label}  ${sizeText(done)}${total !== null ? ` / ${sizeText(total)}` : ''}${pct}  ${sizeText(done / seconds)}/s`)
  }
  return new Transform({
    transform (chunk: Buffer, _encoding, callback) {
      done += chunk.length
      if (Date.now() - drawnAt >= REDRAW_MS) draw()
      callback(null, chunk)
    },
    flush (callback) {
      draw()
      out.write('\n')
      callback()
    },
  })
}
