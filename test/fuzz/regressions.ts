// Counterexamples the OpenAPI fuzzer found, replayed before the generated requests of each run.
// Each is written against the fixture (a = the acting tenant, b = the other one) so it stays valid
// when ids change from run to run.
import type { Actor, FuzzTenant } from './fuzz-fixture.js'

export interface FuzzRequest {
  actor: Actor
  params: Record<string, unknown>
  query: Record<string, unknown>
  headers: Record<string, unknown>
  body: unknown
  signed: boolean
}

type Regression = (a: FuzzTenant, b: FuzzTenant) => FuzzRequest
const request = (r: Partial<FuzzRequest>): FuzzRequest => ({ actor: 'A', params: {}, query: {}, headers: {}, body: undefined, signed: false, ...r })

export const REGRESSIONS: Record<string, Regression[]> = {
  // NUL in a path id reached the query: 500 (now 400 UNSTORABLE_TEXT, from one preValidation hook).
  'GET /api/members/{id}': [() => request({ params: { id: 'a\u0000b' } })],
  // Unpaired surrogates in names and bodies failed the INSERT: 500.
  'POST /api/branches': [() => request({ body: { name: 'x\ud800' } })],
  'POST /api/templates': [() => request({ body: { name: 'T', body: '\udc00' } })],
  // A path parameter past maxParamLength: Fastify's own 414 body (another shape, the URL echoed back),
  // undocumented; now PATH_PARAMETER_TOO_LONG in the error shape and in the OpenAPI document.
  'GET /api/branches/{id}': [() => request({ params: { id: 'x'.repeat(5000) } })],
  // An id that fails its format (uuid) answered 400 on a route whose document listed no 400.
  'POST /api/conversations/{id}/read': [() => request({ params: { id: 'O{oL!|o|' } })],
  // Another tenant's row by id: 404, and nothing of either tenant changes.
  'PATCH /api/templates/{id}': [(a, b) => request({ actor: 'B', params: { id: a.ids[3] }, body: { name: 'taken over' } })]
}
