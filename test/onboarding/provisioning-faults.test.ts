// A failure or a crash after any provisioning step is fully undone: right away for an ordinary error,
// by the reconciler for a crash. Nothing is left: no database or role, no registry rows, no Stripe customer.
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { ERRORS } from '../../src/errors.js'
import { SimulatedCrash, type ProvisioningStep } from '../../src/onboarding/sign-up.js'
import { withClient } from '../../src/db/pg-admin.js'
import { testConfig, testServerUrl } from '../helper.js'
import { startFakeStripe, type FakeStripe } from '../helpers/fake-stripe.js'

const STEPS: ProvisioningStep[] = ['CUSTOMER_CREATED', 'CHURCH_CREATED', 'DATABASE_CREATED', 'SCHEMA_VERIFIED', 'ADMIN_CREATED']

const signup = (n: string) => ({ email: `fault-${n}@example.org`, password: 'a long enough password', firstName: 'Ann', lastName: 'Lee', churchName: `Church ${n}` })

async function serverObjects (tenantId: string): Promise<{ databases: number, roles: number }> {
  return await withClient(await testServerUrl(), async (c) => {
    const db = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [`tenant_${tenantId}`])
    const role = await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [`tenant_${tenantId}`])
    return { databases: db.rowCount ?? 0, roles: role.rowCount ?? 0 }
  })
}

async function assertNothingLeft (t: Test, app: FastifyInstance, stripe: FakeStripe, tenantId: string): Promise<void> {
  t.same(await serverObjects(tenantId), { databases: 0, roles: 0 }, 'no database, no role')
  t.equal(await app.registry.tenant.count({ where: { id: tenantId } }), 0, 'no tenant row')
  t.equal(await app.registry.church.count(), 0, 'no church row')
  t.equal(await app.registry.adminEmailIndex.count({ where: { tenantId } }), 0, 'no email index row')
  const leftovers = [...stripe.customers.values()].filter((c) => c.metadata.tenantId === tenantId)
  t.equal(leftovers.length, 0, 'no Stripe customer left')
  const request = await app.registry.provisioningRequest.findUniqueOrThrow({ where: { tenantId } })
  t.equal(request.state, 'ROLLED_BACK')
}

for (const mode of ['error', 'crash'] as const) {
  for (const step of STEPS) {
    t.test(`${mode} after ${step}`, async (t) => {
      const stripe = await startFakeStripe()
      t.teardown(async () => { await stripe.close() })
      let armed = true
      let tenantId = ''
      const config = await testConfig({ STRIPE_SECRET_KEY: 'sk_test_fault', STRIPE_WEBHOOK_SECRET: 'whsec_test', STRIPE_API_BASE_URL: stripe.baseUrl })
      const app = await buildApp(config, {
        logger: false,
        tenancy: {
          afterProvisioningStep: (s, id) => {
            tenantId = id
            if (s !== step || !armed) return
            armed = false
            throw mode === 'crash' ? new SimulatedCrash(s) : new Error(`injected failure after ${s}`)
          }
        }
      })
      t.teardown(async () => { await app.close() })

      const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload: signup(`${mode}-${step}`) })
      t.equal(res.statusCode, 500)
      t.same(Object.keys(res.json()).sort(), ['code', 'message', 'requestId', 'statusCode'])
      t.equal(res.json().message, 'Internal server error', '5xx details hidden')

      if (mode === 'crash') {
        // The "dead" process left its work as it was; the lease must expire before anyone touches it.
        const early = await app.reconciler.run()
        t.same(early.rolledBack, [], 'a request still within its lease is left alone')
        const report = await app.reconciler.run(new Date(Date.now() + 3 * 60_000))
        t.same(report.rolledBack, [tenantId])
      }
      await assertNothingLeft(t, app, stripe, tenantId)

      // The system is healthy afterwards: the same sign-up now succeeds.
      const retry = await app.inject({ method: 'POST', url: '/api/auth/register', payload: signup(`${mode}-${step}`) })
      t.equal(retry.statusCode, 201, retry.body)
    })
  }
}

t.test('the reconciler drops databases this installation made that nothing accounts for, and only those', async (t) => {
  const config = await testConfig()
  const app = await buildApp(config, { logger: false })
  t.teardown(async () => { await app.close() })
  const admin = await testServerUrl()
  const orphan = 'tenant_torphan0000000000000000001'
  const foreign = 'tenant_tforeign000000000000000001'
  await withClient(admin, async (c) => {
    await c.query(`CREATE DATABASE ${orphan}`)
    await c.query(`COMMENT ON DATABASE ${orphan} IS 'church-sms:${app.installationId}'`)
    await c.query(`CREATE DATABASE ${foreign}`)
  })
  t.teardown(async () => { await withClient(admin, async (c) => { await c.query(`DROP DATABASE IF EXISTS ${foreign}`) }) })
  const res = await app.inject({ method: 'POST', url: '/api/platform/reconcile', headers: { authorization: `Bearer ${config.platformAdminToken ?? ''}` } })
  t.equal(res.statusCode, 200)
  t.same(res.json().orphanDatabasesDropped, [orphan])
  const left = await withClient(admin, async (c) => (await c.query('SELECT datname FROM pg_database WHERE datname = ANY($1)', [[orphan, foreign]])).rows.map((r) => r.datname))
  t.same(left, [foreign], 'another installation\'s database is untouched')
})

t.test('a sign-up that meets PROVISIONING_BUSY gets 503 with Retry-After, and is rolled back like any failure', async (t) => {
  const stripe = await startFakeStripe()
  t.teardown(async () => { await stripe.close() })
  let tenantId = ''
  let armed = true
  const config = await testConfig({ STRIPE_SECRET_KEY: 'sk_test_busy', STRIPE_WEBHOOK_SECRET: 'whsec_test', STRIPE_API_BASE_URL: stripe.baseUrl })
  const app = await buildApp(config, {
    logger: false,
    tenancy: {
      // Stands for the admin connections' queue overflowing while the database is being created.
      afterProvisioningStep: (s, id) => {
        tenantId = id
        if (s === 'CHURCH_CREATED' && armed) { armed = false; throw new ERRORS.ProvisioningBusy() }
      }
    }
  })
  t.teardown(async () => { await app.close() })
  const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload: signup('busy') })
  t.equal(res.statusCode, 503)
  t.equal(res.json().code, 'PROVISIONING_BUSY')
  t.equal(res.headers['retry-after'], '5')
  await assertNothingLeft(t, app, stripe, tenantId)
  const retry = await app.inject({ method: 'POST', url: '/api/auth/register', payload: signup('busy') })
  t.equal(retry.statusCode, 201, retry.body)
})
