// Splits a command line into words the way a POSIX shell does, without running one.

/** `text` as one POSIX single-quoted word: safe for any path or argument. */
export function shellQuote (text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`
}

/** Thrown for a command line with an unterminated quote or a trailing backslash. */
export class ShellWordsError extends Error {}

/**
 * The words of `line` under POSIX quoting rules: blanks separate words, '…' is literal, "…" keeps
 * `\"`, `\\`, `\$` and `` \` `` escapes, a backslash outside quotes escapes the next character.
 * No expansion of any kind happens (`$HOME`, `*`, `~` stay as written).
 */
export function splitShellWords (line: string): string[] {
  const words: string[] = []
  let word = ''
  let inWord = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string
    if (c === ' ' || c === '\t' || c === '\n') {
      if (inWord) words.push(word)
      word = ''
      inWord = false
      continue
    }
    inWord = true
    if (c === '\\') {
      if (i + 1 >= line.length) throw new ShellWordsError('the command line ends with a backslash')
      const next = line[++i] as string
      if (next !== '\n') word += next
    } else if (c === "'") {
      const end = line.indexOf("'", i + 1)
      if (end === -1) throw new ShellWordsError('the command line has an unterminated single quote')
      word += line.slice(i + 1, end)
      i = end
    } else if (c === '"') {
      let closed = false
      for (i++; i < line.length; i++) {
        const d = line[i] as string
        if (d === '"') { closed = true; break }
        if (d === '\\' && i + 1 < line.length && '"\\$`\n'.includes(line[i + 1] as string)) {
          const escaped = line[++i] as string
          if (escaped !== '\n') word += escaped
        } else {
          word += d
        }
      }
      if (!closed) throw new ShellWordsError('the command line has an unterminated double quote')
    } else {
      word += c
    }
  }
  if (inWord) words.push(word)
  return words
}
