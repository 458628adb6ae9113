// Two tenants: neither can reach the other's data with its own token or a forged one, and a tenant's
// database role cannot even connect to the other's database.
import { createHmac } from 'node:crypto'
import pg from 'pg'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build } from '../helper.js'

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url')
const decode = (token: string) => JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Record<string, unknown>

async function register (app: FastifyInstance, churchName: string) {
  const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { email: `${churchName.replace(/\W/g, '')}@example.org`, password: 'isolation password 123', firstName: 'A', lastName: 'B', churchName } })
  return res.json() as { tenantId: string, accessToken: string, refreshToken: string }
}

t.test('forged and foreign tokens never reach another tenant', async (t) => {
  const app = await build(t)
  const a = await register(app, 'Church A')
  const b = await register(app, 'Church B')
  const me = async (token: string) => await app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${token}` } })

  t.equal((await me(a.accessToken)).json().church.name, 'Church A')
  t.equal((await me(b.accessToken)).json().church.name, 'Church B')

  const claims = decode(a.accessToken)
  const [header, , signature] = a.accessToken.split('.')
  const forgeries: Record<string, string> = {
    'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, tenantId: b.tenantId })}.`,
    'wrong secret': (() => {
      const h = b64({ alg: 'HS256', typ: 'JWT' })
      const p = b64({ ...claims, tenantId: b.tenantId })
      return `${h}.${p}.${createHmac('sha256', 'not-the-real-secret-not-the-real-secret').update(`${h}.${p}`).digest('base64url')}`
    })(),
    'edited tenantId': `${header ?? ''}.${b64({ ...claims, tenantId: b.tenantId })}.${signature ?? ''}`,
    expired: app.jwt.sign({ tenantId: b.tenantId, adminId: String(claims.adminId), role: 'OWNER' }, { expiresIn: -10 } as never),
    'wrong audience': app.jwt.sign({ tenantId: b.tenantId, adminId: String(claims.adminId), role: 'OWNER' }, { aud: 'someone-else' } as never),
    garbage: 'not.a.jwt'
  }
  for (const [name, token] of Object.entries(forgeries)) {
    const res = await me(token)
    t.ok([401, 403, 404].includes(res.statusCode), `${name}: ${res.statusCode}`)
    t.notMatch(res.body, /Church B/, `${name}: no data of B`)
  }
  t.equal((await app.inject({ method: 'GET', url: '/api/me' })).statusCode, 401, 'no token')

  // A validly signed token whose admin belongs to A but names B's tenant finds no admin in B.
  const crossed = app.jwt.sign({ tenantId: b.tenantId, adminId: String(claims.adminId), role: 'OWNER' })
  const res = await me(crossed)
  t.equal(res.statusCode, 401)
  t.notMatch(res.body, /Church B/)
})

t.test('suspended and deleted tenants are refused with their code', async (t) => {
  const app = await build(t)
  const a = await register(app, 'Suspended Church')
  const me = async () => await app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${a.accessToken}` } })
  await app.registry.tenant.update({ where: { id: a.tenantId }, data: { status: 'SUSPENDED' } })
  app.directory.invalidate(a.tenantId)
  t.match((await me()).json(), { statusCode: 403, code: 'TENANT_SUSPENDED' })
  await app.registry.tenant.update({ where: { id: a.tenantId }, data: { status: 'DELETED' } })
  app.directory.invalidate(a.tenantId)
  t.match((await me()).json(), { statusCode: 403, code: 'TENANT_DELETED' })
})

t.test("a tenant's role cannot connect to another tenant's database", async (t) => {
  const app = await build(t)
  const a = await register(app, 'Role A')
  const b = await register(app, 'Role B')
  const infoA = await app.directory.connectionInfo(a.tenantId)
  const infoB = await app.directory.connectionInfo(b.tenantId)
  const own = new pg.Client({ connectionString: infoA.url })
  await own.connect()
  t.equal((await own.query('SELECT current_database() AS db')).rows[0].db, `tenant_${a.tenantId}`)
  await own.end()
  const intoB = new URL(infoA.url)
  intoB.pathname = `/${new URL(infoB.url).pathname.slice(1)}`
  const foreign = new pg.Client({ connectionString: intoB.toString() })
  await t.rejects(foreign.connect(), /permission denied for database/)
  await foreign.end().catch(() => {})
})

t.test('operator API: token required, pool statistics and tenant listing', async (t) => {
  const app = await build(t)
  const a = await register(app, 'Listed Church')
  const token = app.config.platformAdminToken ?? ''
  t.equal((await app.inject({ method: 'GET', url: '/api/platform/tenants' })).statusCode, 401)
  t.equal((await app.inject({ method: 'GET', url: '/api/platform/tenants', headers: { authorization: 'Bearer wrong-token-wrong-token-wrong' } })).statusCode, 401)
  const list = await app.inject({ method: 'GET', url: '/api/platform/tenants', headers: { authorization: `Bearer ${token}` } })
  t.equal(list.statusCode, 200)
  t.match(list.json().tenants, [{ id: a.tenantId, name: 'Listed Church', status: 'ACTIVE', server: 'default', schemaVersion: app.readiness.expectedTenantVersion }])
  const filter = async (status: string) => await app.inject({ method: 'GET', url: `/api/platform/tenants?status=${status}`, headers: { authorization: `Bearer ${token}` } })
  t.equal((await filter('SUSPENDED')).json().tenants.length, 0)
  t.equal((await filter('ACTIVE')).json().tenants.length, 1)
  t.equal((await filter('FOO')).statusCode, 400, 'an unknown status is a bad request, not a database error')
  const one = await app.inject({ method: 'GET', url: `/api/platform/tenants/${a.tenantId}`, headers: { authorization: `Bearer ${token}` } })
  t.equal(one.json().databaseName, `tenant_${a.tenantId}`)
  t.equal((await app.inject({ method: 'GET', url: '/api/platform/tenants/nope', headers: { authorization: `Bearer ${token}` } })).statusCode, 404)
  const pool = await app.inject({ method: 'GET', url: '/api/platform/pool', headers: { authorization: `Bearer ${token}` } })
  t.equal(pool.statusCode, 200)
  t.match(pool.json(), { clients: Number, hits: Number, misses: Number, evictions: Number, waiters: 0, openConnections: Number })
  t.ok(pool.json().clients >= 1)
})

t.test('operator API is disabled without PLATFORM_ADMIN_TOKEN', async (t) => {
  const app = await build(t, { PLATFORM_ADMIN_TOKEN: '' })
  const res = await app.inject({ method: 'GET', url: '/api/platform/tenants', headers: { authorization: 'Bearer anything-anything-anything' } })
  t.equal(res.statusCode, 403)
})

t.test('a registry that cannot answer is a 5xx, not a 401 that would make clients drop their tokens', async (t) => {
  const app = await build(t)
  const a = await register(app, 'Outage Church')
  const real = app.directory.get
  app.directory.get = async () => { throw new Error('registry unreachable') }
  t.teardown(() => { app.directory.get = real })
  const me = await app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${a.accessToken}` } })
  t.equal(me.statusCode, 500)
  const refresh = await app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: a.refreshToken } })
  t.equal(refresh.statusCode, 500)
  app.directory.get = real
  t.equal((await app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${a.accessToken}` } })).statusCode, 200)
})
