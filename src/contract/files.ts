// The JSON answers of the files routes (docs/api.md §24): stat, list, move, mkdir, tar extraction.
import type { FromSchema } from 'json-schema-to-ts'

const ENTRY_PROPERTIES = {
  name: { type: 'string', description: 'the base name; in a recursive listing, the path relative to the listed directory' },
  type: { enum: ['file', 'directory', 'symlink', 'other'] },
  size: { type: 'integer', minimum: 0 },
  mode: { type: 'string', pattern: '^[0-7]{4}$', description: 'permission bits in octal, e.g. "0644"' },
  mtime: { type: 'string', description: 'last modification, ISO 8601' },
  target: { type: 'string', description: 'a symlink\'s target, as written in it' },
} as const

const ENTRY_REQUIRED = ['name', 'type', 'size', 'mode', 'mtime'] as const

/** One entry of GET /files/list (a symlink is not followed). */
export const FileEntrySchema = {
  title: 'FileEntry',
  type: 'object',
  properties: ENTRY_PROPERTIES,
  required: ENTRY_REQUIRED,
  additionalProperties: false,
} as const

/** One entry of a directory listing. */
export type FileEntry = FromSchema<typeof FileEntrySchema>

/** GET /files/stat: the entry of the path itself, with its absolute path and, for a file, its ETag. */
export const FileStatSchema = {
  title: 'FileStat',
  type: 'object',
  properties: {
    path: { type: 'string', description: 'absolute' },
    ...ENTRY_PROPERTIES,
    etag: { type: 'string', description: 'files only: the strong ETag GET and PUT /files use' },
  },
  required: ['path', ...ENTRY_REQUIRED],
  additionalProperties: false,
} as const

/** What GET /files/stat says of a path. */
export type FileStat = FromSchema<typeof FileStatSchema>

/** GET /files/list: the entries sorted by name (breadth first when recursive), at most `limit`. */
export const FileListingSchema = {
  title: 'FileListing',
  type: 'object',
  properties: {
    path: { type: 'string', description: 'the listed directory, absolute' },
    entries: { type: 'array', items: FileEntrySchema },
    truncated: { type: 'boolean', description: 'there were more entries than `limit`' },
  },
  required: ['path', 'entries', 'truncated'],
  additionalProperties: false,
} as const

/** A directory listing. */
export type FileListing = FromSchema<typeof FileListingSchema>

/** POST /files/move: both paths, absolute. */
export const FileMovedSchema = {
  title: 'FileMoved',
  type: 'object',
  properties: { from: { type: 'string' }, to: { type: 'string' } },
  required: ['from', 'to'],
  additionalProperties: false,
} as const

/** POST /files/mkdir: the directory, absolute, and whether this request created it (201) or it was there (200). */
export const DirectoryMadeSchema = {
  title: 'DirectoryMade',
  type: 'object',
  properties: { path: { type: 'string' }, created: { type: 'boolean' } },
  required: ['path', 'created'],
  additionalProperties: false,
} as const

/** PUT /files?extract=1: the directory the tar was extracted into, absolute, and how many entries it held. */
export const ExtractedSchema = {
  title: 'Extracted',
  type: 'object',
  properties: { path: { type: 'string' }, entries: { type: 'integer', minimum: 0 } },
  required: ['path', 'entries'],
  additionalProperties: false,
} as const
