// A hard delete removes everything of the organization (databases and role, registry rows, Stripe
// customer, backups and their key, queued jobs) and survives a crash after any step: a rerun finishes
// it. Afterwards a search of the whole registry and the server finds the tenant only in its report.
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { DELETION_STEPS, type DeletionStep } from '../../src/account/hard-delete.js'
import { withClient } from '../../src/db/pg-admin.js'
import { testConfig, testServerUrl } from '../helper.js'
import { startFakeStripe, type FakeStripe } from '../helpers/fake-stripe.js'
import { OPERATOR, orgWithMembers, type Org } from '../helpers/lifecycle-fixture.js'
import { until } from '../helpers/wait.js'

/** Every table of every schema of the registry, and the server's database and role names, that mention a needle. */
async function findEverywhere (app: FastifyInstance, needles: string[]): Promise<string[]> {
  const patterns = needles.map((n) => `%${n}%`)
  const found: string[] = []
  await withClient(app.config.databaseUrl as string, async (c) => {
    const tables = await c.query<{ schema: string, table: string }>("SELECT schemaname AS schema, tablename AS table FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', 'information_schema')")
    for (const { schema, table } of tables.rows) {
      const hit = await c.query(`SELECT 1 FROM "${schema}"."${table}" x WHERE x::text ILIKE ANY($1) LIMIT 1`, [patterns])
      if (hit.rowCount === 1) found.push(`${schema}.${table}`)
    }
  })
  await withClient(await testServerUrl(), async (c) => {
    for (const row of (await c.query<{ name: string }>('SELECT datname AS name FROM pg_database WHERE datname ILIKE ANY($1)', [patterns])).rows) found.push(`database ${row.name}`)
    for (const row of (await c.query<{ name: string }>('SELECT rolname AS name FROM pg_roles WHERE rolname ILIKE ANY($1)', [patterns])).rows) found.push(`role ${row.name}`)
  })
  return found.sort()
}

/** An organization with something in every place a deletion must reach. */
async function fullOrg (app: FastifyInstance, name: string, n: number): Promise<Org> {
  const org = await orgWithMembers(app, 2, name)
  const number = `+1312556${String(1000 + n)}`
  if ((await app.inject({ method: 'POST', url: '/api/phone-numbers', headers: org.headers, payload: { phoneNumber: number } })).statusCode !== 201) throw new Error('number')
  const backup = await app.inject({ method: 'POST', url: `/api/platform/tenants/${org.tenantId}/backups`, headers: OPERATOR })
  // A restore leaves a second database (the old one, kept for its grace period).
  await app.restores.restore(org.tenantId, { backupId: backup.json().id })
  await app.inject({ method: 'POST', url: '/api/account/exports', headers: org.headers })
  await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: org.email, password: 'wrong password' } })
  // A pending invitation and a password reset: registry rows and (local mode) outbox mail to both people.
  const invited = await app.inject({ method: 'POST', url: '/api/invitations', headers: org.headers, payload: { email: `invitee-${org.tenantId}@example.org`, role: 'STAFF' } })
  if (invited.statusCode !== 201) throw new Error(`invitation: ${invited.statusCode} ${invited.body}`)
  await app.inject({ method: 'POST', url: '/api/auth/password-reset', payload: { email: org.email } })
  // The reset is mailed after the answer (the answer takes the same time whether or not the email exists).
  await until(async () => await app.registry.mailOutbox.count({ where: { to: org.email } }) === 1, { what: 'the password reset mail' })
  return org
}

async function assertGone (t: Test, app: FastifyInstance, stripe: FakeStripe, org: Org): Promise<void> {
  t.same(await findEverywhere(app, [org.tenantId, org.email]), ['public.TenantDeletion'], 'only the deletion report mentions the tenant')
  const report = (await app.inject({ url: `/api/platform/deletions/${org.tenantId}`, headers: OPERATOR })).json()
  t.same(report.steps.map((s: { step: string }) => s.step), DELETION_STEPS, 'every step recorded once, in order')
  t.notOk(JSON.stringify(report).includes(org.email), 'no personal data in the report')
  t.equal([...stripe.customers.values()].filter((c) => c.metadata.tenantId === org.tenantId).length, 0, 'the Stripe customer is deleted')
  t.same(await app.backupStorage.list(`${org.tenantId}/`), [], 'no backup file')
  t.same(await app.exportStorage.list(`${org.tenantId}/`), [], 'no export file')
  t.equal((await app.inject({ url: '/api/me', headers: org.headers })).statusCode, 401)
}

t.test('a crash after any step: a rerun finishes the deletion and nothing is left', async (t) => {
  const stripe = await startFakeStripe()
  t.teardown(async () => { await stripe.close() })
  let crashAt: DeletionStep | undefined
  const config = await testConfig({ STRIPE_SECRET_KEY: 'sk_test_delete', STRIPE_WEBHOOK_SECRET: 'whsec_test', STRIPE_API_BASE_URL: stripe.baseUrl })
  const app = await buildApp(config, {
    logger: false,
    lifecycle: {
      afterDeletionStep: (step) => {
        if (step !== crashAt) return
        crashAt = undefined
        throw new Error(`simulated crash after ${step}`)
      }
    }
  })
  t.teardown(async () => { await app.close() })
  const steps = DELETION_STEPS.filter((s) => s !== 'COMPLETED')
  for (const [i, step] of steps.entries()) {
    const org = await fullOrg(app, `Church ${step}`, i)
    crashAt = step
    const crashed = await app.inject({ method: 'DELETE', url: `/api/platform/tenants/${org.tenantId}`, headers: OPERATOR })
    t.equal(crashed.statusCode, 500, `${step}: the first run died`)
    const partial = await app.hardDelete.report(org.tenantId)
    t.equal(partial.completedAt, null, `${step}: unfinished`)
    t.equal(partial.steps.at(-1)?.step, step)
    t.same(await app.deletions.runDue(), [org.tenantId], `${step}: the worker's sweep resumes it`)
    await assertGone(t, app, stripe, org)
  }
  const again = await app.inject({ method: 'DELETE', url: `/api/platform/tenants/${(await app.hardDelete.unfinished())[0] ?? 'tnone0000000000000000000000'}`, headers: OPERATOR })
  t.equal(again.statusCode, 404, 'an unknown tenant is a 404')
})

t.test('DELETE /api/platform/tenants/:id deletes at once and leaves only the report', async (t) => {
  const stripe = await startFakeStripe()
  t.teardown(async () => { await stripe.close() })
  const config = await testConfig({ STRIPE_SECRET_KEY: 'sk_test_delete', STRIPE_WEBHOOK_SECRET: 'whsec_test', STRIPE_API_BASE_URL: stripe.baseUrl })
  const app = await buildApp(config, { logger: false })
  t.teardown(async () => { await app.close() })
  const keep = await orgWithMembers(app, 1, 'Neighbour Church')
  const org = await fullOrg(app, 'Doomed Church', 99)
  t.ok((await findEverywhere(app, [org.tenantId])).length > 5, 'the search finds a live tenant in many places')
  const res = await app.inject({ method: 'DELETE', url: `/api/platform/tenants/${org.tenantId}`, headers: OPERATOR })
  t.equal(res.statusCode, 200, res.body)
  t.match(res.json().removed, { databases: 2, roles: 1, backups: 1, phoneNumbers: 1, backupKeyDestroyed: true, stripeCustomer: true })
  t.equal(res.json().requestedBy, 'operator')
  await assertGone(t, app, stripe, org)
  const second = await app.inject({ method: 'DELETE', url: `/api/platform/tenants/${org.tenantId}`, headers: OPERATOR })
  t.equal(second.statusCode, 200, 'idempotent: the report again')
  t.equal((await app.inject({ url: '/api/members', headers: keep.headers })).statusCode, 200, 'the other organization is untouched')
  t.equal((await app.inject({ method: 'DELETE', url: `/api/platform/tenants/${org.tenantId}` })).statusCode, 401)
})
