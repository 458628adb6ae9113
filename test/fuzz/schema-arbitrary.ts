// fast-check arbitraries from the OpenAPI document's JSON schemas: values that satisfy a schema, and
// values that break it in the ways hostile clients do (missing or extra fields, wrong types, text
// PostgreSQL cannot store, oversized strings).
import fc from 'fast-check'

export interface JsonSchema {
  type?: string | string[]
  properties?: Record<string, JsonSchema>
  required?: string[]
  items?: JsonSchema
  enum?: unknown[]
  anyOf?: JsonSchema[]
  oneOf?: JsonSchema[]
  minLength?: number
  maxLength?: number
  minimum?: number
  maximum?: number
  maxItems?: number
  minItems?: number
  pattern?: string
  format?: string
  nullable?: boolean
  const?: unknown
}

/** Strings worth trying anywhere: ids and numbers of real rows, and the text that used to break us. */
export function interestingStrings (known: string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...(known.length > 0 ? known : ['x'])) },
    fc.constantFrom('a\u0000b', '\ud800', 'x\udfff', '🙏 grace', ' ', '', '0', '-1', '../../etc', "'; DROP TABLE \"Member\"; --", '{{firstName}}', '{{nope}}',
      '+13125550123', '+1', '* * * * *', '0 9 * * 0', 'America/Chicago', 'Mars/Olympus', '2030-01-01T10:00:00Z', '1999-01-01T00:00:00Z'),
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.string({ minLength: 5000, maxLength: 6000 })
  )
}

function stringFor (schema: JsonSchema, known: string[]): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0
  const max = Math.min(schema.maxLength ?? 60, 60)
  if (schema.format === 'email') return fc.emailAddress().filter((e) => e.length <= (schema.maxLength ?? 254))
  if (schema.format === 'date-time') return fc.date({ min: new Date('2000-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }).map((d) => d.toISOString())
  if (schema.pattern !== undefined) {
    const pattern = schema.pattern.startsWith('^') ? schema.pattern : `^.*${schema.pattern}.*$`
    // fast-check cannot generate from lookaheads (the slug's "no dash at the end or twice"): generate
    // without them, keep what the whole pattern accepts.
    const exact = new RegExp(pattern)
    const generated = new RegExp(pattern.replace(/\(\?[=!][^()]*\)/g, ''))
    return fc.stringMatching(generated).filter((s) => exact.test(s) && s.length >= min && s.length <= (schema.maxLength ?? 10_000))
  }
  return fc.oneof(
    fc.string({ minLength: min, maxLength: Math.max(min, max) }),
    fc.constantFrom(...(known.length > 0 ? known : ['x'])).filter((s) => s.length >= min && s.length <= (schema.maxLength ?? 10_000))
  )
}

/** Values valid for the schema (as far as its keywords go: meaning is for the API to judge). */
export function valid (schema: JsonSchema | undefined, known: string[], depth = 0): fc.Arbitrary<unknown> {
  if (schema === undefined) return fc.constant(undefined)
  const base = validBase(schema, known, depth)
  return schema.nullable === true ? fc.oneof(base, fc.constant(null)) : base
}

function validBase (schema: JsonSchema, known: string[], depth: number): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const)
  if (schema.enum !== undefined) return fc.constantFrom(...schema.enum)
  const alternatives = schema.anyOf ?? schema.oneOf
  if (alternatives !== undefined) return fc.oneof(...alternatives.map((s) => valid(s, known, depth + 1)))
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type
  switch (type) {
    case 'string': return stringFor(schema, known)
    case 'integer': return fc.integer({ min: schema.minimum ?? -1000, max: schema.maximum ?? 100_000 })
    case 'number': return fc.double({ min: schema.minimum ?? -1000, max: schema.maximum ?? 100_000, noNaN: true })
    case 'boolean': return fc.boolean()
    case 'null': return fc.constant(null)
    case 'array': return depth > 3 ? fc.constant([]) : fc.array(valid(schema.items, known, depth + 1), { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 5, 5) })
    case 'object': {
      const properties = schema.properties ?? {}
      const required = new Set(schema.required ?? [])
      const record: Record<string, fc.Arbitrary<unknown>> = {}
      for (const [key, sub] of Object.entries(properties)) record[key] = valid(sub, known, depth + 1)
      return fc.record(record, { requiredKeys: [...required].filter((key) => key in properties) })
    }
    default: return fc.jsonValue({ maxDepth: 2 })
  }
}

/** Values a client may send instead: the schema broken one way at a time, or nothing like it at all. */
export function invalid (schema: JsonSchema | undefined, known: string[]): fc.Arbitrary<unknown> {
  const garbage = fc.oneof(fc.jsonValue({ maxDepth: 3 }), interestingStrings(known), fc.constantFrom(null, [], {}, 0, -1, true, 1e308))
  if (schema?.type !== 'object' || schema.properties === undefined) return garbage
  const keys = Object.keys(schema.properties)
  if (keys.length === 0) return garbage
  const props = schema.properties
  return fc.oneof(
    garbage,
    // One field replaced by something hostile (wrong type, unstorable text, an id of the other tenant...).
    fc.tuple(valid(schema, known), fc.constantFrom(...keys), fc.oneof(interestingStrings(known), fc.jsonValue({ maxDepth: 2 })))
      .map(([body, key, bad]) => ({ ...(body as object), [key]: bad })),
    // A required field missing.
    fc.tuple(valid(schema, known), fc.constantFrom(...(schema.required ?? keys)))
      .map(([body, key]) => { const copy = { ...(body as Record<string, unknown>) }; delete copy[key]; return copy }),
    // A field the schema does not know.
    fc.tuple(valid(schema, known), fc.string({ minLength: 1, maxLength: 10 }).filter((k) => !(k in props)), fc.jsonValue({ maxDepth: 1 }))
      .map(([body, key, extra]) => ({ ...(body as object), [key]: extra }))
  )
}
