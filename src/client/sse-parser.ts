/** One dispatched Server-Sent Event. */
export interface SseMessage {
  id: string | undefined
  event: string
  data: string
}

/** Splits a text/event-stream body into messages (per the HTML spec's parsing rules). */
export async function * parseSse (body: AsyncIterable<Uint8Array>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder('utf-8')
  let buffer = ''
  let id: string | undefined
  let event = ''
  let data: string[] = []
  const takeLine = (line: string): SseMessage | undefined => {
    if (line === '') {
      const message = data.length > 0 ? { id, event: event || 'message', data: data.join('\n') } : undefined
      event = ''
      data = []
      return message
    }
    if (line.startsWith(':')) return undefined
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'data') data.push(value)
    else if (field === 'event') event = value
    else if (field === 'id' && !value.includes('\0')) id = value
    return undefined
  }
  for await (const chunk of body) {
    buffer += decoder.decode(chunk, { stream: true })
    let newline = buffer.search(/\r\n|\r|\n/)
    while (newline !== -1) {
      const line = buffer.slice(0, newline)
      const width = buffer.startsWith('\r\n', newline) ? 2 : 1
      // Why: a lone \r at the end of a chunk may be the first half of \r\n; wait for more.
      if (buffer[newline] === '\r' && newline + 1 === buffer.length) break
      buffer = buffer.slice(newline + width)
      const message = takeLine(line)
      if (message) yield message
      newline = buffer.search(/\r\n|\r|\n/)
    }
  }
}
