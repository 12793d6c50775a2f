import { Ajv, type ErrorObject, type Options, type ValidateFunction } from 'ajv'
import type { FastifySchemaCompiler } from 'fastify'

// Why not Fastify's own Ajv: it coerces types in bodies too (`{"data": 5}` would become "5"); a
// JSON body must already have the right types. Query strings and path parameters are text, so
// they are coerced (`?wait=10` → 10); a number that is not one is still a 400.
// Why not TypeBox's compiler: loading it cost ~300 ms of start-up and ~20 MiB (docs/benchmarks.md).
const COMMON: Options = { allErrors: false, useDefaults: false, removeAdditional: false }
const forBody = new Ajv({ ...COMMON, coerceTypes: false })
const forText = new Ajv({ ...COMMON, coerceTypes: 'array' })

type TextValidator = ((data: unknown) => boolean) & { errors: ErrorObject[] | null }

/** The name of the first coerced value that is not a finite number (`Infinity`, `1e309`), else undefined. */
function firstNonFinite (data: unknown): string | undefined {
  if (typeof data !== 'object' || data === null) return undefined
  for (const [name, value] of Object.entries(data)) {
    const values: unknown[] = Array.isArray(value) ? value : [value]
    if (values.some((v) => typeof v === 'number' && !Number.isFinite(v))) return name
  }
  return undefined
}

// Why: Ajv coerces "Infinity", "-Infinity" and "1e309" to ±Infinity, which passes `type: number`
// and skips `minimum`/`maximum` (and `integer` for some keywords); no query or path value is ever
// meant to be infinite, so every route refuses them here.
function refusingInfinity (validate: ValidateFunction): TextValidator {
  const checked: TextValidator = Object.assign((data: unknown): boolean => {
    if (!validate(data)) {
      checked.errors = validate.errors ?? null
      return false
    }
    const name = firstNonFinite(data)
    checked.errors = name === undefined
      ? null
      : [{ instancePath: `/${name}`, schemaPath: '#', keyword: 'type', params: {}, message: 'must be a finite number' }]
    return name === undefined
  }, { errors: null })
  return checked
}

/** Compiles a route's JSON Schema: strict types for bodies, coerced ones (finite numbers only) for query strings and params. */
export const validatorCompiler: FastifySchemaCompiler<object> = ({ schema, httpPart }) =>
  httpPart === 'body' ? forBody.compile(schema) : refusingInfinity(forText.compile(schema))
