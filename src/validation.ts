import { Ajv, type Options } from 'ajv'
import type { FastifySchemaCompiler } from 'fastify'

// Why not Fastify's own Ajv: it coerces types in bodies too (`{"data": 5}` would become "5"); a
// JSON body must already have the right types. Query strings and path parameters are text, so
// they are coerced (`?wait=10` → 10); a number that is not one is still a 400.
// Why not TypeBox's compiler: loading it cost ~300 ms of start-up and ~20 MiB (docs/benchmarks.md).
const COMMON: Options = { allErrors: false, useDefaults: false, removeAdditional: false }
const forBody = new Ajv({ ...COMMON, coerceTypes: false })
const forText = new Ajv({ ...COMMON, coerceTypes: 'array' })

/** Compiles a route's JSON Schema: strict types for bodies, coerced ones for query strings and params. */
export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  (httpPart === 'body' ? forBody : forText).compile(schema)
