import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'
import { waitFor } from './wait.js'

/** A WebSocket opened by hand over TCP, so a test can write any bytes, valid frames or not. */
export interface RawWebSocket {
  socket: Socket
  /** Every byte received after the 101 answer's head. */
  received: () => Buffer
  /** The payloads of the complete server frames received so far (text as UTF-8, control frames skipped). */
  messages: () => string[]
  /** Resolves when the server has closed the TCP connection. */
  ended: Promise<void>
}

/** Payloads of the unmasked data frames in `bytes` (a server's frames), up to the first incomplete one. */
function serverMessages (bytes: Buffer): string[] {
  const messages: string[] = []
  let at = 0
  while (at + 2 <= bytes.length) {
    const opcode = (bytes[at] as number) & 0x0f
    let length = (bytes[at + 1] as number) & 0x7f
    let start = at + 2
    if (length === 126) {
      if (start + 2 > bytes.length) break
      length = bytes.readUInt16BE(start)
      start += 2
    } else if (length === 127) {
      if (start + 8 > bytes.length) break
      length = Number(bytes.readBigUInt64BE(start))
      start += 8
    }
    if (start + length > bytes.length) break
    if (opcode < 0x8) messages.push(bytes.subarray(start, start + length).toString('utf8'))
    at = start + length
  }
  return messages
}

/** One client frame: FIN set, masked (as clients must), with a payload of any length. */
export function maskedFrame (opcode: number, payload: Buffer | string): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload
  const mask = randomBytes(4)
  const masked = Buffer.from(data.map((byte, i) => byte ^ (mask[i % 4] as number)))
  let head: Buffer
  if (data.length < 126) {
    head = Buffer.from([0x80 | opcode, 0x80 | data.length])
  } else if (data.length < 65536) {
    head = Buffer.alloc(4)
    head.writeUInt8(0x80 | opcode, 0)
    head.writeUInt8(0x80 | 126, 1)
    head.writeUInt16BE(data.length, 2)
  } else {
    head = Buffer.alloc(10)
    head.writeUInt8(0x80 | opcode, 0)
    head.writeUInt8(0x80 | 127, 1)
    head.writeBigUInt64BE(BigInt(data.length), 2)
  }
  return Buffer.concat([head, mask, masked])
}

/** A masked text frame carrying `message` as JSON. */
export const jsonFrame = (message: unknown): Buffer => maskedFrame(0x1, JSON.stringify(message))

/** Frames a peer must never send: each one is a protocol error for `ws`. */
export const INVALID_FRAMES: Record<string, Buffer> = {
  'an unmasked text frame': Buffer.concat([Buffer.from([0x81, 0x05]), Buffer.from('hello')]),
  'a frame with a reserved opcode': maskedFrame(0x3, 'x'),
  'a text frame that is not UTF-8': maskedFrame(0x1, Buffer.from([0xc3, 0x28, 0xff, 0xfe])),
  'a frame over 64 KiB': maskedFrame(0x2, Buffer.alloc(70 * 1024, 0x61)),
  'a frame with RSV1 set and no extension': Buffer.from([0xc1, 0x80, 1, 2, 3, 4]),
  'a fragmented ping': Buffer.from([0x09, 0x80, 1, 2, 3, 4]),
}

/**
 * Opens a WebSocket to `url` (http://host:port/path?query) over a raw TCP socket and resolves
 * once the 101 answer arrived. Rejects when the server answers anything else. `firstFrames` are
 * written in the same TCP write as the upgrade request.
 */
export async function openRawWebSocket (url: string, headers: Record<string, string> = {}, firstFrames: Buffer = Buffer.alloc(0)): Promise<RawWebSocket> {
  const target = new URL(url)
  const socket = connect(Number(target.port), target.hostname)
  socket.on('error', () => { /* a reset after a bad frame is expected; `ended` reports the end */ })
  let closed = false
  const ended = new Promise<void>((resolve) => socket.once('close', () => {
    closed = true
    resolve()
  }))
  let buffer = Buffer.alloc(0)
  let headEnd = -1
  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk])
    if (headEnd === -1) headEnd = buffer.indexOf('\r\n\r\n')
  })
  const lines = [
    `GET ${target.pathname}${target.search} HTTP/1.1`,
    `Host: ${target.host}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
    'Sec-WebSocket-Version: 13',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ]
  socket.write(Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n'), firstFrames]))
  await waitFor(() => {
    if (headEnd === -1 && closed) throw new Error(`the server closed the connection: ${buffer.toString('latin1')}`)
    return headEnd !== -1
  }, 'the upgrade answer')
  const head = buffer.subarray(0, headEnd).toString('latin1')
  if (!head.startsWith('HTTP/1.1 101')) {
    socket.destroy()
    throw new Error(`upgrade refused: ${head.split('\r\n')[0] ?? ''}`)
  }
  const received = (): Buffer => buffer.subarray(headEnd + 4)
  return { socket, received, messages: () => serverMessages(received()), ended }
}
