import { open, stat } from 'node:fs/promises'
import { basename } from 'node:path'
import type { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { FastifyInstance } from 'fastify'
import type { JsonSchemaToTsProvider } from '@fastify/type-provider-json-schema-to-ts'
import type { Config } from '../config.js'
import { Responses } from '../contract/responses.js'
import { Errors } from '../errors.js'
import { byteLimit, writeFileAtomically } from './atomic-write.js'
import { planDownload } from './download.js'
import { describeEntry, listDirectory } from './entries.js'
import { etagMatches, etagOf } from './etag.js'
import { onPath } from './fs-errors.js'
import { makeDirectory, movePath, removePath } from './operations.js'
import { resolveRequestPath, type FilesRoot } from './paths.js'
import { DeleteQuery, DownloadQuery, isOn, ListQuery, MkdirBody, MoveBody, parseMode, PathQuery, UploadQuery } from './schemas.js'
import { packTar } from './tar-pack.js'
import { extractTar } from './tar-extract.js'

const DEFAULT_LIST_LIMIT = 1000
const TAR_TYPE = 'application/x-tar'
// Why 1 MiB: 64 KiB reads (the default) cost a syscall and a socket write each (scripts/bench/files.ts).
const READ_CHUNK_BYTES = 1024 * 1024

/** The current ETag of `path`, or null when it does not exist. */
async function currentEtag (path: string): Promise<string | null> {
  try { return etagOf(await stat(path, { bigint: true })) } catch { return null }
}

/** The body, failing with UPLOAD_TOO_LARGE past `limit`; errors of the source (a dropped client) reach the reader. */
function limitedBody (source: Readable, limit: number | null): Readable {
  if (limit === null) return source
  const limited = byteLimit(limit)
  pipeline(source, limited).catch(() => { /* the reader of `limited` sees the error */ })
  return limited
}

/** HTTP routes of the files API: download (raw, ranges, tar), streamed atomic upload and tar extraction, list, stat, delete, move, mkdir. */
export async function registerFileRoutes (fastify: FastifyInstance, config: Config): Promise<void> {
  const app = fastify.withTypeProvider<JsonSchemaToTsProvider>()
  const files: FilesRoot = { root: config.filesRoot, confine: config.filesConfine }
  const resolvePath = (raw: string): Promise<string> => resolveRequestPath(files, raw)

  // Why an explicit HEAD: Fastify's automatic one reads a streamed body to the end and drops it.
  app.route({
    method: ['GET', 'HEAD'],
    url: '/files',
    exposeHeadRoute: false,
    schema: { querystring: DownloadQuery, response: Responses.fileDownload },
    handler: async (request, reply) => {
      const path = await resolvePath(request.query.path)
      if (request.query.format === 'tar') {
        await onPath(path, () => stat(path))
        const name = basename(path)
        reply.type(TAR_TYPE).header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent((name || 'root') + '.tar')}`)
        return request.method === 'HEAD' ? reply.send() : reply.send(packTar(path, { prefix: name }))
      }
      // Why a handle: a rename over the path mid-download leaves this reader on the file it started with.
      const handle = await onPath(path, () => open(path, 'r'))
      let handedOver = false
      try {
        const stats = await handle.stat({ bigint: true })
        if (stats.isDirectory()) throw new Errors.IS_A_DIRECTORY(request.query.path)
        const plan = planDownload(stats, request.headers.range, request.headers['if-none-match'])
        reply.headers(plan.headers).type('application/octet-stream')
        if (plan.status === 416) throw new Errors.RANGE_NOT_SATISFIABLE(Number(stats.size))
        reply.code(plan.status)
        if (plan.span === null || request.method === 'HEAD') return reply.send()
        handedOver = true
        return reply.send(handle.createReadStream({ start: plan.span.start, end: plan.span.end, highWaterMark: READ_CHUNK_BYTES }))
      } finally {
        if (!handedOver) await handle.close()
      }
    }
  })

  app.get('/files/stat', { schema: { querystring: PathQuery, response: Responses.fileStat } }, async (request) => {
    const path = await resolvePath(request.query.path)
    const entry = await onPath(path, () => describeEntry(path))
    const etag = entry.type === 'file' ? await currentEtag(path) : null
    return { path, ...entry, ...(etag ? { etag } : {}) }
  })

  app.get('/files/list', { schema: { querystring: ListQuery, response: Responses.fileListing } }, async (request) => {
    const path = await resolvePath(request.query.path)
    const stats = await onPath(path, () => stat(path))
    if (!stats.isDirectory()) throw new Errors.NOT_A_DIRECTORY(request.query.path)
    const listing = await onPath(path, () => listDirectory(path, isOn(request.query.recursive), request.query.limit ?? DEFAULT_LIST_LIMIT))
    return { path, ...listing }
  })

  app.delete('/files', { schema: { querystring: DeleteQuery, response: Responses.fileDeleted } }, async (request, reply) => {
    await removePath(await resolvePath(request.query.path), isOn(request.query.recursive))
    return reply.code(204).send()
  })

  app.post('/files/move', { schema: { body: MoveBody, response: Responses.fileMoved } }, async (request) => {
    const [from, to] = await Promise.all([resolvePath(request.body.from), resolvePath(request.body.to)])
    await movePath(from, to, request.body.overwrite === true)
    return { from, to }
  })

  app.post('/files/mkdir', { schema: { body: MkdirBody, response: Responses.directoryMade } }, async (request, reply) => {
    const path = await resolvePath(request.body.path)
    const created = await makeDirectory(path, parseMode(request.body.mode))
    return reply.code(created ? 201 : 200).send({ path, created })
  })

  // Why a child context: the app parses every body as JSON; an upload's body is streamed, never parsed.
  await fastify.register(async (child) => {
    child.removeAllContentTypeParsers()
    child.addContentTypeParser('*', (_request, _payload, done) => { done(null) })
    child.addHook('onError', async (request, reply) => {
      // Why: a refused or failed upload leaves its body unread; closing the connection ends the sender's write too.
      if (!request.raw.complete) reply.header('connection', 'close')
    })
    child.withTypeProvider<JsonSchemaToTsProvider>().put('/files', { schema: { querystring: UploadQuery, response: Responses.fileUpload }, config: { streamsBody: true } }, async (request, reply) => {
      const { query } = request
      const path = await resolvePath(query.path)
      const limit = config.maxUploadBytes
      const declared = Number(request.headers['content-length'])
      if (limit !== null && Number.isFinite(declared) && declared > limit) {
        throw new Errors.UPLOAD_TOO_LARGE(limit)
      }
      if (isOn(query.extract)) {
        if (request.headers['content-type']?.split(';')[0]?.trim() !== TAR_TYPE) throw new Errors.INVALID_REQUEST(`extract=1 needs Content-Type: ${TAR_TYPE}`)
        if (isOn(query.mkdir)) await onPath(path, () => makeDirectory(path, undefined))
        const stats = await onPath(path, () => stat(path))
        if (!stats.isDirectory()) throw new Errors.NOT_A_DIRECTORY(query.path)
        const entries = await onPath(path, () => extractTar(limitedBody(request.raw, limit), path))
        return reply.code(200).send({ path, entries })
      }
      const ifMatch = request.headers['if-match']
      const checkIfMatch = async (): Promise<void> => {
        if (ifMatch === undefined) return
        const etag = await currentEtag(path)
        if (etag === null || !etagMatches(ifMatch, etag)) throw new Errors.PRECONDITION_FAILED(query.path)
      }
      await checkIfMatch()
      const created = await writeFileAtomically(request.raw, path, { mode: parseMode(query.mode), mkdir: isOn(query.mkdir), maxBytes: limit, beforeRename: checkIfMatch })
      const etag = await currentEtag(path)
      if (etag) reply.header('etag', etag)
      return reply.code(created ? 201 : 204).send()
    })
  })
}
