import t from 'tap'
import { build } from '../../helper.js'

t.test('GET /health answers ok', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/health' })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { status: 'ok' })
  t.match(res.headers['x-request-id'], /^[0-9a-f-]{36}$/)
})

t.test('GET /ready reports the registry migrated and the template current', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/ready' })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.status, 'ready')
  t.same(body.checks, { registry: true, registryMigrated: true, templateReady: true })
  t.equal(body.tenantSchemaVersion, app.readiness.expectedTenantVersion)
})

t.test('unknown route: 404 in the error shape', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'GET', url: '/nope?x=1', headers: { 'x-request-id': 'abcdefgh-1234' } })
  t.equal(res.statusCode, 404)
  t.same(res.json(), { statusCode: 404, code: 'ROUTE_NOT_FOUND', message: 'Route GET /nope not found', requestId: 'abcdefgh-1234' })
})

t.test('OpenAPI document is served', async (t) => {
  const app = await build(t)
  const json = await app.inject({ method: 'GET', url: '/docs/json' })
  t.equal(json.statusCode, 200)
  t.equal(json.json().openapi.startsWith('3.'), true)
  t.ok(json.json().paths['/health'])
  const ui = await app.inject({ method: 'GET', url: '/docs' })
  t.ok([200, 302].includes(ui.statusCode))
})
