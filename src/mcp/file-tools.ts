import { z } from 'zod'
import { decodeUtf8 } from '../lib/utf8.js'
import { countOccurrences, replacementDiff } from './edit.js'
import { guarded, toolResult, waitWithProgress, type ToolDeps } from './tool-kit.js'
import { capForModel } from './render.js'
import { readLineRange } from './line-range.js'
import { shellQuote } from '../lib/shell-words.js'

// The most bytes of text read_file returns: a model reads big files in line ranges.
export const MAX_READ_BYTES = 256 * 1024
const MAX_EDIT_BYTES = 8 * 1024 * 1024
const DEFAULT_LIST_LIMIT = 500
const MAX_SEARCH_MATCHES = 200
const SEARCH_WAIT_SEC = 30

const path = z.string().min(1).describe('A path on the machine: absolute, or relative to the server\'s files root.')

/** read_file, write_file, edit_file, list_directory, search_files: the files API's core for a model. */
export function registerFileTools ({ server, backend, log }: ToolDeps): void {
  server.registerTool('read_file', {
    title: 'Read a file',
    description: 'Reads a text file. Give start_line/end_line (1-based, inclusive) for part of a big file; any line of any size of file can be reached. ' +
      `At most ${MAX_READ_BYTES} bytes of text are returned: when the lines asked for are more, the result is cut at the last whole line that fits ` +
      '(truncated: true) and says the start_line to read on from.',
    inputSchema: {
      path,
      start_line: z.number().int().min(1).optional().describe('First line to return (1-based).'),
      end_line: z.number().int().min(1).optional().describe('Last line to return (inclusive).'),
    },
    annotations: { readOnlyHint: true },
  }, async (args) => guarded(log, 'read_file', async () => {
    const file = await backend.openFile(args.path)
    const range = await readLineRange(file.chunks, args.start_line ?? 1, args.end_line ?? Infinity, MAX_READ_BYTES)
    const nextLine = range.cut ? range.endLine + 1 : null
    const result = { path: file.path, size: file.size, truncated: range.cut, startLine: range.startLine, endLine: range.endLine, nextLine, content: range.content }
    return toolResult(result, range.content + (range.cut ? `\n[… cut at ${MAX_READ_BYTES} bytes after line ${range.endLine}; read on with start_line=${String(nextLine)} …]` : ''))
  }))

  server.registerTool('write_file', {
    title: 'Write a file',
    description: 'Writes text to a file, replacing it whole if it exists. The write is atomic: readers see the old file or the new one, never a part.',
    inputSchema: {
      path,
      content: z.string().describe('The whole new content of the file.'),
      create_dirs: z.boolean().optional().describe('Create missing parent directories (default true).'),
    },
    annotations: { destructiveHint: true, idempotentHint: true },
  }, async (args) => guarded(log, 'write_file', async () => {
    const written = await backend.writeFile(args.path, args.content, args.create_dirs ?? true)
    const bytes = Buffer.byteLength(args.content)
    return toolResult({ ...written, bytes }, `${written.created ? 'created' : 'replaced'} ${written.path} (${bytes} bytes)`)
  }))

  server.registerTool('edit_file', {
    title: 'Edit a file',
    description: 'Replaces one exact occurrence of old_string with new_string in a text file and returns a diff. ' +
      'old_string must match exactly (whitespace included) and occur exactly once; include surrounding lines to make it unique, ' +
      'or set replace_all to replace every occurrence. The write is atomic.',
    inputSchema: {
      path,
      old_string: z.string().min(1).describe('The exact text to replace.'),
      new_string: z.string().describe('The text to put in its place.'),
      replace_all: z.boolean().optional().describe('Replace every occurrence instead of requiring exactly one.'),
    },
    annotations: { destructiveHint: true },
  }, async (args) => guarded(log, 'edit_file', async () => {
    const file = await backend.readFile(args.path, MAX_EDIT_BYTES)
    if (file.size > file.bytes.length) throw new Error(`${args.path} is larger than ${MAX_EDIT_BYTES} bytes; edit it with run_command`)
    const before = decodeUtf8(file.bytes)
    const { first, count } = countOccurrences(before, args.old_string)
    if (count === 0) throw new Error(`old_string was not found in ${args.path}`)
    if (count > 1 && args.replace_all !== true) throw new Error(`old_string occurs ${count} times in ${args.path}; include more surrounding text to make it unique, or set replace_all`)
    const after = args.replace_all === true ? before.replaceAll(args.old_string, () => args.new_string) : before.slice(0, first) + args.new_string + before.slice(first + args.old_string.length)
    await backend.writeFile(args.path, after, false)
    const diff = replacementDiff(before, first, args.old_string, args.new_string)
    return toolResult({ path: file.path, replacements: args.replace_all === true ? count : 1, diff }, diff)
  }))

  server.registerTool('list_directory', {
    title: 'List a directory',
    description: 'Lists the entries of a directory: name, type (file, directory, symlink, other), size, mode and modification time. ' +
      'With recursive, lists the whole tree (paths relative to the directory).',
    inputSchema: {
      path,
      recursive: z.boolean().optional().describe('List the whole tree below the directory.'),
      limit: z.number().int().min(1).max(10_000).optional().describe(`At most this many entries (default ${DEFAULT_LIST_LIMIT}).`),
    },
    annotations: { readOnlyHint: true },
  }, async (args) => guarded(log, 'list_directory', async () => {
    const listing = await backend.listDirectory(args.path, args.recursive ?? false, args.limit ?? DEFAULT_LIST_LIMIT)
    const text = listing.entries.map((e) => `${e.type === 'directory' ? 'd' : e.type === 'symlink' ? 'l' : '-'} ${String(e.size).padStart(10)}  ${e.name}`).join('\n') +
      (listing.truncated ? '\n[… more entries; raise limit …]' : '')
    return toolResult({ ...listing }, text || '(empty directory)')
  }))

  server.registerTool('search_files', {
    title: 'Search file contents',
    description: 'Searches files below a directory for lines matching a regular expression (ripgrep when installed, else grep -E). ' +
      `Returns matching lines as path:line:text, at most ${MAX_SEARCH_MATCHES} per file. Binary files and, with ripgrep, .gitignored files are skipped.`,
    inputSchema: {
      pattern: z.string().min(1).describe('A regular expression (ripgrep/ERE syntax).'),
      path: z.string().optional().describe('Directory or file to search: absolute, or relative to the server\'s files root; default: the files root.'),
      ignore_case: z.boolean().optional().describe('Match case-insensitively.'),
    },
    annotations: { readOnlyHint: true },
  }, async (args, extra) => guarded(log, 'search_files', async () => {
    // Why resolvePath: relative paths name the same place as in read_file and the files API (the files root, confined).
    const where = shellQuote(await backend.resolvePath(args.path ?? '.'))
    const flags = args.ignore_case === true ? '-i ' : ''
    // Why a job: the same code runs in-process and remotely, and a slow search never blocks the server.
    const command = `if command -v rg >/dev/null 2>&1; then rg -n --no-heading --color never ${flags}-m ${MAX_SEARCH_MATCHES} -e ${shellQuote(args.pattern)} -- ${where}; ` +
      `else grep -rnIE ${flags}-m ${MAX_SEARCH_MATCHES} -e ${shellQuote(args.pattern)} -- ${where}; fi`
    const id = await backend.submit({ command, timeout: SEARCH_WAIT_SEC * 2 })
    const job = await waitWithProgress(backend, id, SEARCH_WAIT_SEC * 1000, extra)
    if (job.status === 'pending' || job.status === 'running') await backend.kill(id).catch(() => undefined)
    if (job.exitCode !== 0 && job.exitCode !== 1) throw new Error(`search failed (exit ${String(job.exitCode)}): ${job.stderr ?? ''}`.trim())
    const output = capForModel(job.stdout ?? '', job.stdoutBytes)
    const matches = output.text === '' ? 0 : output.text.split('\n').filter(Boolean).length
    return toolResult({ matches, output: output.text, omittedBytes: output.omittedBytes }, output.text || 'no matches')
  }))
}
