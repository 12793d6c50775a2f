// Serializes route answers with fast-json-stringify (Fastify's own), but compiles each response
// schema on its first use instead of at start-up.
// Why: compiling the ~100 response schemas (each route, its HEAD twin, 2xx and 4xx/5xx) when the app
// starts cost ~50-140 ms of CPU before the first request (measured, docs/benchmarks.md).
import { createRequire } from 'node:module'
import type { FastifySerializerCompiler } from 'fastify'

type Build = (schema: object) => (data: unknown) => string

// Why resolved from fastify: fast-json-stringify is fastify's dependency (the version it was built with), not ours.
const requireFromFastify = createRequire(createRequire(import.meta.url).resolve('fastify'))
let build: Build | undefined

/** A serializer compiler that compiles the schema when the first answer is sent. */
export const lazySerializerCompiler: FastifySerializerCompiler<object> = ({ schema }) => {
  let serialize: ((data: unknown) => string) | undefined
  return (data) => {
    build ??= requireFromFastify('fast-json-stringify') as Build
    serialize ??= build(schema)
    return serialize(data)
  }
}
