// The three route contexts decide what their routes get. A route registered in the tenant context, with
// no hook of its own (only its permission declared), is authenticated, has its permission checked and
// holds its tenant's database lease until the response is sent; every tenant route refuses a request without a token, every operator route one without the
// operator token.
import Fastify, { type FastifyInstance } from 'fastify'
import t from 'tap'
import auth from '../../src/plugins/app/auth.js'
import errorHandler from '../../src/plugins/app/error-handler.js'
import metrics from '../../src/plugins/app/metrics.js'
import rateLimits from '../../src/plugins/app/rate-limits.js'
import registry from '../../src/plugins/app/registry.js'
import onboarding from '../../src/plugins/app/onboarding.js'
import tenancy from '../../src/plugins/app/tenancy.js'
import { tenantOf, useTenantContext } from '../../src/routes/tenant/context.js'
import { build, registerOrganization, testConfig } from '../helper.js'

const OPERATOR = /^\/(api\/platform\/|metrics$)/

t.test('a route added to the tenant context is authenticated, checked and leased without a hook of its own', async (t) => {
  const app: FastifyInstance = Fastify({ logger: false })
  t.teardown(async () => { await app.close() })
  await app.register(errorHandler)
  await app.register(metrics)
  await app.register(registry, { config: await testConfig() })
  await app.register(rateLimits)
  await app.register(tenancy)
  await app.register(auth)
  await app.register(onboarding)
  await app.register(async (context) => {
    useTenantContext(context)
    context.get('/probe', { config: { permission: 'account.self' } }, async (request) => {
      const { tenant, db } = tenantOf(request)
      const [row] = await db.$queryRaw<Array<{ name: string }>>`SELECT current_user::text AS name`
      return { tenantId: tenant.id, user: row?.name, leases: app.pool.stats().inFlight }
    })
  })
  await app.ready()
  const created = await app.provisioning.register({ email: 'probe@example.org', password: 'correct horse battery staple', firstName: 'P', lastName: 'Q', churchName: 'Probe' })
  const { accessToken } = created

  const anonymous = await app.inject({ method: 'GET', url: '/probe' })
  t.equal(anonymous.statusCode, 401)
  t.equal(anonymous.json().code, 'UNAUTHORIZED')
  const res = await app.inject({ method: 'GET', url: '/probe', headers: { authorization: `Bearer ${accessToken}` } })
  t.equal(res.statusCode, 200, res.body)
  t.same(res.json(), { tenantId: created.tenantId, user: `tenant_${created.tenantId}`, leases: 1 }, 'its own database, leased while the handler runs')
  t.equal(app.pool.stats().inFlight, 0, 'the lease is given back with the response')
})

t.test('every tenant route needs an access token and every operator route the operator token', async (t) => {
  const app = await build(t)
  const org = (await registerOrganization(app)).json() as { accessToken: string }
  const paths = (await app.inject({ method: 'GET', url: '/docs/json' })).json().paths as Record<string, Record<string, unknown>>
  let tenantRoutes = 0
  let operatorRoutes = 0
  for (const [path, operations] of Object.entries(paths)) {
    const url = path.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000')
    for (const method of Object.keys(operations)) {
      // Public routes are the ones that declare it (test/auth/permissions.test.ts checks which they are).
      if (app.routeAccess.get(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`) === 'public') continue
      const res = await app.inject({ method: method.toUpperCase() as 'GET', url })
      t.equal(res.statusCode, 401, `${method.toUpperCase()} ${path} without a token`)
      if (OPERATOR.test(path)) {
        operatorRoutes++
        const asAdmin = await app.inject({ method: method.toUpperCase() as 'GET', url, headers: { authorization: `Bearer ${org.accessToken}` } })
        t.equal(asAdmin.statusCode, 401, `${method.toUpperCase()} ${path} with a tenant token`)
      } else {
        tenantRoutes++
      }
    }
  }
  t.ok(tenantRoutes >= 30, `${tenantRoutes} tenant routes checked`)
  t.ok(operatorRoutes >= 5, `${operatorRoutes} operator routes checked`)
})
