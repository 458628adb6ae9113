// Property-based fuzzing driven by the OpenAPI document (/docs/json): every operation is called with
// generated valid and invalid bodies, path parameters, query strings, headers and tokens (valid,
// expired, forged, another tenant's, none). Whatever is sent: no 5xx, only documented statuses,
// nothing written when the request is refused, and nothing ever written to the other tenant.
// Seeded and bounded (FUZZ_RUNS per operation); counterexamples found once are kept in regressions.ts.
import t from 'tap'
import fc from 'fast-check'
import { build } from '../helper.js'
import { createTelnyxSigner } from '../helpers/telnyx-signer.js'
import { authorization, fuzzTenant, type Actor } from './fuzz-fixture.js'
import { interestingStrings, invalid, valid, type JsonSchema } from './schema-arbitrary.js'
import { REGRESSIONS, type FuzzRequest } from './regressions.js'

const RUNS = Number(process.env.FUZZ_RUNS ?? 6)
const SEED = Number(process.env.FUZZ_SEED ?? 14)
const ACTORS: Actor[] = ['A', 'A', 'A', 'B', 'expired', 'forged', 'none', 'garbage', 'operator']

// About 50 operations with a few hundred requests in all: more than the default per-file timeout allows
// on a busy machine.
t.setTimeout(400_000)

interface Parameter { in: 'path' | 'query' | 'header', name: string, required?: boolean, schema: JsonSchema }
interface Operation { parameters?: Parameter[], requestBody?: { content?: Record<string, { schema?: JsonSchema }> }, responses: Record<string, unknown> }

t.test('every operation of the OpenAPI document under generated input', async (t) => {
  const signer = createTelnyxSigner()
  const app = await build(t, { RATE_LIMIT_PER_MINUTE: '1000000', LOGIN_MAX_ATTEMPTS: '1000', TELNYX_PUBLIC_KEY: signer.publicKeyBase64 })
  const a = await fuzzTenant(app, 'Alpha')
  const b = await fuzzTenant(app, 'Beta')
  t.teardown(async () => { await a.close(); await b.close() })
  const known = [...a.ids, ...b.ids]
  const doc = (await app.inject({ url: '/docs/json' })).json() as { paths: Record<string, Record<string, Operation>> }

  const operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ method: method.toUpperCase(), path, op })))
    .filter(({ path }) => !path.startsWith('/docs'))
    // Deletions last, so the rows the other operations aim at exist while they run.
    .sort((x, y) => Number(x.method === 'DELETE') - Number(y.method === 'DELETE'))

  for (const { method, path, op } of operations) {
    const key = `${method} ${path}`
    const params = op.parameters ?? []
    const content = op.requestBody?.content ?? {}
    const json = content['application/json']?.schema
    const webhook = path.startsWith('/webhooks/')
    const pathArb = fc.record(Object.fromEntries(params.filter((p) => p.in === 'path').map((p) => [p.name, interestingStrings(known)])))
    const queryArb = fc.record(Object.fromEntries(params.filter((p) => p.in === 'query').map((p) => [p.name, fc.oneof(valid(p.schema, known), interestingStrings(known))])), { requiredKeys: [] })
    const headerArb = fc.record(Object.fromEntries(params.filter((p) => p.in === 'header').map((p) => [p.name, fc.oneof(valid(p.schema, known), interestingStrings(known).filter((s) => /^[\t\x20-\x7e]*$/.test(s)))])), { requiredKeys: [] })
    const bodyArb: fc.Arbitrary<unknown> = json !== undefined
      ? fc.oneof(valid(json, known), invalid(json, known))
      : webhook
        ? fc.oneof(fc.jsonValue({ maxDepth: 4 }), telnyxLike(fc, known, a.number))
        : path === '/api/members/import' ? fc.string({ maxLength: 300 }).map((csv) => `firstName,lastName,phone\n${csv}`) : fc.constant(undefined)
    const requestArb = fc.record({
      actor: fc.constantFrom(...(webhook ? ['none' as const] : ACTORS)),
      params: pathArb,
      query: queryArb,
      headers: headerArb,
      body: bodyArb,
      signed: fc.boolean()
    })

    await t.test(key, async (t) => {
      const check = async (request: FuzzRequest): Promise<void> => {
        const url = path.replace(/\{([^}]+)\}/g, (_, name: string) => encodePath(String(request.params[name] ?? '')))
        const query = new URLSearchParams(Object.entries(request.query).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)] as [string, string])).toString()
        const raw = request.body === undefined ? undefined : typeof request.body === 'string' ? request.body : JSON.stringify(request.body)
        const contentType = path === '/api/members/import' ? 'text/csv' : 'application/json'
        const headers: Record<string, string> = { ...authorization(request.actor, a, b), ...(request.headers as Record<string, string>) }
        if (raw !== undefined) headers['content-type'] = contentType
        if (webhook && request.signed && raw !== undefined) Object.assign(headers, signer.sign(raw))
        const before = [await a.fingerprint(), await b.fingerprint()]
        const res = await app.inject({ method: method as 'GET', url: query === '' ? url : `${url}?${query}`, headers, ...(raw !== undefined && { payload: raw }) })
        const after = [await a.fingerprint(), await b.fingerprint()]
        const what = `${res.statusCode} ${res.body.slice(0, 200)} <- ${method} ${url.slice(0, 200)} as ${request.actor}`
        if (res.statusCode >= 500) throw new Error(`5xx: ${what}`)
        if (!(String(res.statusCode) in op.responses)) throw new Error(`undocumented status: ${what}`)
        const actorIsB = request.actor === 'B'
        if (after[actorIsB ? 0 : 1] !== before[actorIsB ? 0 : 1]) throw new Error(`wrote to the other tenant: ${what}`)
        if (res.statusCode >= 400 && after[actorIsB ? 1 : 0] !== before[actorIsB ? 1 : 0]) throw new Error(`refused but wrote: ${what}`)
      }
      const examples = (REGRESSIONS[key] ?? []).map((r) => [r(a, b)] as [FuzzRequest])
      try {
        await fc.assert(fc.asyncProperty(requestArb, check), { seed: SEED, numRuns: RUNS, examples, endOnFailure: true })
        t.pass(`${RUNS} generated requests and ${examples.length} kept regressions`)
      } catch (error) {
        // The reason and how to replay it; the counterexample itself can be megabytes of generated text.
        const message = (error as Error).message
        const seed = /\{ seed: [^}]*\}/.exec(message)?.[0] ?? ''
        const cause = (error as { cause?: unknown }).cause
        const reason = cause instanceof Error ? cause.message : message.slice(0, 300)
        t.fail(`${reason.slice(0, 600)} ${seed}`)
      }
    })
  }
})

/** Path segments as a client could send them: NUL as %00, lone surrogates as their raw UTF-8 bytes. */
function encodePath (value: string): string {
  return value.replace(/[^\ud800-\udfff]+|[\ud800-\udfff]/g, (part) => /[\ud800-\udfff]/.test(part) ? '%ED%A0%80' : encodeURIComponent(part))
}

/** Bodies shaped like Telnyx events, with the fields hostile or broken: they are signed half the time. */
function telnyxLike (check: typeof fc, known: string[], number: string): fc.Arbitrary<unknown> {
  const text = check.oneof(interestingStrings(known), check.jsonValue({ maxDepth: 1 }))
  return check.record({
    data: check.record({
      id: check.oneof(check.uuid(), text),
      event_type: check.constantFrom('message.received', 'message.sent', 'message.finalized', 'message.unknown', ''),
      occurred_at: check.oneof(check.constant(new Date().toISOString()), text),
      payload: check.record({
        id: check.oneof(check.uuid(), text),
        from: check.record({ phone_number: check.oneof(check.constant('+13125550100'), text) }),
        to: check.array(check.record({ phone_number: check.oneof(check.constant(number), text), status: text }), { maxLength: 2 }),
        text,
        media: check.array(check.record({ url: text, content_type: text }), { maxLength: 2 }),
        errors: check.array(check.record({ code: text, title: text }), { maxLength: 1 })
      }, { requiredKeys: [] })
    }, { requiredKeys: [] }),
    meta: check.record({ attempt: check.integer() })
  }, { requiredKeys: [] })
}
