import t from 'tap'
import { build, testServerUrl } from '../helper.js'
import { withClient, withDatabase } from '../../src/db/pg-admin.js'
import { hashEmail } from '../../src/auth/email.js'

const body = (over: Record<string, unknown> = {}) => ({
  email: `Pastor.${Math.random().toString(36).slice(2)}@Example.org`,
  password: 'correct horse battery staple',
  firstName: 'Grace',
  lastName: 'Hopper',
  churchName: 'First Church',
  ...over
})

t.test('register creates the organization, its database, role, admin and email index', async (t) => {
  const app = await build(t)
  const input = body()
  const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload: input })
  t.equal(res.statusCode, 201, res.body)
  const out = res.json()
  t.match(out, { tenantId: /^t[a-z0-9]{24}$/, accessToken: String, refreshToken: String, email: input.email.toLowerCase() })

  const tenant = await app.registry.tenant.findUniqueOrThrow({ where: { id: out.tenantId }, include: { church: true } })
  t.equal(tenant.status, 'ACTIVE')
  t.equal(tenant.databaseName, `tenant_${out.tenantId}`)
  t.equal(tenant.schemaVersion, app.readiness.expectedTenantVersion)
  t.equal(tenant.church.name, 'First Church')
  t.match(tenant.church.stripeCustomerId, /^cus_local_/)
  t.notOk(tenant.databasePasswordEncrypted.includes(':') === false, 'password stored sealed')

  const index = await app.registry.adminEmailIndex.findMany({ where: { tenantId: out.tenantId } })
  t.equal(index.length, 1)
  t.equal(index[0]?.emailHash, hashEmail(app.config.secrets.emailHashKey, input.email))

  const admin = await withClient(withDatabase(await testServerUrl(), tenant.databaseName), async (c) =>
    (await c.query('SELECT email, "passwordHash", "firstName" FROM "Admin"')).rows)
  t.equal(admin.length, 1)
  t.equal(admin[0].email, input.email.toLowerCase())
  t.match(admin[0].passwordHash, /^\$argon2id\$/)

  const me = await app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${out.accessToken}` } })
  t.equal(me.statusCode, 200, me.body)
  t.match(me.json(), { admin: { email: input.email.toLowerCase(), firstName: 'Grace' }, church: { name: 'First Church' }, tenant: { id: out.tenantId, status: 'ACTIVE' } })

  // The database belongs to the tenant's own role, only that role may connect, and both carry this
  // installation's mark (what the reconciler's orphan scan goes by).
  const facts = await withClient(await testServerUrl(), async (c) => (await c.query(`
    SELECT pg_get_userbyid(d.datdba) AS owner, has_database_privilege('public', d.oid, 'CONNECT') AS "publicConnect",
      has_database_privilege($1, d.oid, 'CONNECT') AS "ownConnect", shobj_description(d.oid, 'pg_database') AS "dbMark",
      shobj_description((SELECT oid FROM pg_roles WHERE rolname = $1), 'pg_authid') AS "roleMark"
    FROM pg_database d WHERE d.datname = $1`, [tenant.databaseName])).rows[0])
  t.same(facts, { owner: tenant.databaseName, publicConnect: false, ownConnect: true, dbMark: `church-sms:${app.installationId}`, roleMark: `church-sms:${app.installationId}` })
})

t.test('invalid input is refused with a 400 and creates nothing', async (t) => {
  const app = await build(t)
  const cases = [
    body({ email: 'not-an-email' }),
    body({ password: 'short' }),
    body({ firstName: '' }),
    body({ churchName: 'x'.repeat(201) }),
    body({ lastName: 'y'.repeat(101) }),
    { email: 'a@b.org' }
  ]
  for (const payload of cases) {
    const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload })
    t.equal(res.statusCode, 400, JSON.stringify(payload).slice(0, 60))
    t.equal(res.json().code, 'VALIDATION_ERROR')
  }
  t.equal(await app.registry.tenant.count(), 0)
  t.equal(await app.registry.church.count(), 0)
})

t.test('Idempotency-Key: a retried sign-up returns the first organization', async (t) => {
  const app = await build(t)
  const input = body()
  const headers = { 'idempotency-key': 'signup-retry-12345' }
  const first = await app.inject({ method: 'POST', url: '/api/auth/register', payload: input, headers })
  const second = await app.inject({ method: 'POST', url: '/api/auth/register', payload: input, headers })
  t.equal(first.statusCode, 201)
  t.equal(second.statusCode, 201)
  t.equal(second.json().tenantId, first.json().tenantId)
  t.equal(await app.registry.tenant.count(), 1)
  const other = await app.inject({ method: 'POST', url: '/api/auth/register', payload: body(), headers })
  t.equal(other.statusCode, 422)
  t.equal(other.json().code, 'IDEMPOTENCY_KEY_REUSED')
})
