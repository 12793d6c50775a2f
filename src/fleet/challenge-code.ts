import { randomInt } from 'node:crypto'

const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'

/** devpilot's challenge code shape (`KFC-6947`: three letters, a hyphen, four digits), from a CSPRNG. */
export function challengeCode (): string {
  let letters = ''
  for (let i = 0; i < 3; i++) letters += LETTERS[randomInt(LETTERS.length)]
  return `${letters}-${String(randomInt(10_000)).padStart(4, '0')}`
}
