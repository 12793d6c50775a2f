import { Errors } from '../errors.js'

/** The catalogue error for a failed file-system call on `path`; unknown errors pass through (→ 500). */
export function toFileError (err: unknown, path: string): unknown {
  switch ((err as NodeJS.ErrnoException | null)?.code) {
    case 'ENOENT': return new Errors.FILE_NOT_FOUND(path)
    case 'ENOTDIR': return new Errors.NOT_A_DIRECTORY(path)
    case 'EISDIR': return new Errors.IS_A_DIRECTORY(path)
    case 'EEXIST': return new Errors.FILE_EXISTS(path)
    case 'ENOTEMPTY': return new Errors.DIRECTORY_NOT_EMPTY(path)
    case 'EACCES': case 'EPERM': case 'EROFS': return new Errors.FILE_PERMISSION_DENIED(path)
    case 'ENOSPC': case 'EDQUOT': return new Errors.NO_SPACE(path)
    // Why not a 500: a client that drops its upload is not a server failure worth an error log.
    case 'ECONNRESET': case 'ERR_STREAM_PREMATURE_CLOSE': return new Errors.INVALID_REQUEST(`the body for ${path} ended early (the client went away)`)
    case 'ELOOP': return new Errors.INVALID_REQUEST(`too many levels of symbolic links: ${path}`)
    case 'ENAMETOOLONG': return new Errors.INVALID_REQUEST(`file name too long: ${path}`)
    default: return err
  }
}

/** Runs a file-system call and turns its failure into the catalogue error for `path`. */
export async function onPath<T> (path: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work()
  } catch (err) {
    throw toFileError(err, path)
  }
}
