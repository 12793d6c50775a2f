// Request shapes of the files routes, as JSON Schema; query strings are coerced text (src/validation.ts).

const PATH = { type: 'string', minLength: 1, maxLength: 4096 } as const
const FLAG = { enum: ['0', '1', 'true', 'false'] } as const
const MODE = { type: 'string', pattern: '^0?[0-7]{3,4}$' } as const

export const DownloadQuery = {
  type: 'object',
  properties: { path: PATH, format: { enum: ['raw', 'tar'] } },
  required: ['path'],
} as const

export const UploadQuery = {
  type: 'object',
  properties: { path: PATH, mode: MODE, mkdir: FLAG, extract: FLAG },
  required: ['path'],
} as const

export const ListQuery = {
  type: 'object',
  properties: { path: PATH, recursive: FLAG, limit: { type: 'integer', minimum: 1, maximum: 100_000 } },
  required: ['path'],
} as const

export const PathQuery = {
  type: 'object',
  properties: { path: PATH },
  required: ['path'],
} as const

export const DeleteQuery = {
  type: 'object',
  properties: { path: PATH, recursive: FLAG },
  required: ['path'],
} as const

export const MoveBody = {
  type: 'object',
  properties: { from: PATH, to: PATH, overwrite: { type: 'boolean' } },
  required: ['from', 'to'],
  additionalProperties: false,
} as const

export const MkdirBody = {
  type: 'object',
  properties: { path: PATH, mode: MODE },
  required: ['path'],
  additionalProperties: false,
} as const

/** A query flag's value: `1` / `true` are on. */
export const isOn = (flag: string | undefined): boolean => flag === '1' || flag === 'true'

/** An octal mode string ("0644", "755") as a number. */
export const parseMode = (mode: string | undefined): number | undefined => mode === undefined ? undefined : parseInt(mode, 8)
