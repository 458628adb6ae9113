// Several PostgreSQL servers: adding one validates it before anything is recorded and creates its
// template; `servers list` shows live health; placement picks the least-loaded active shared server,
// a draining one takes no new tenants, a pin overrides; every change is audited without secrets.
import t from 'tap'
import { withClient, withDatabase } from '../../src/db/pg-admin.js'
import { freePort } from '../../src/db/embedded-postgres.js'
import { refusal } from '../../src/registry/server-health.js'
import { build, TEST_SECRETS } from '../helper.js'
import { startExtraServers } from '../helpers/extra-servers.js'

const auth = { authorization: `Bearer ${TEST_SECRETS.PLATFORM_ADMIN_TOKEN}` }
const signup = (n: string) => ({ email: `srv-${n}-${Date.now()}@example.org`, password: 'a long enough password', firstName: 'Ann', lastName: 'Lee', churchName: `Church ${n}` })

const [a, b] = await startExtraServers(t, 2)
if (a === undefined || b === undefined) throw new Error('servers did not start')

t.test('adding, listing, placement, drain, disable and the audit trail', async (t) => {
  const app = await build(t)
  const add = async (name: string, url: string, extra: Record<string, unknown> = {}) =>
    await app.inject({ method: 'POST', url: '/api/platform/servers', headers: auth, payload: { name, url, ...extra } })

  const added = await add('a', a.url, { connectionBudget: 40, maxTenants: 100 })
  t.equal(added.statusCode, 201, added.body)
  t.match(added.json(), { name: 'a', kind: 'SHARED', status: 'ACTIVE', connectionBudget: 40, maxTenants: 100, health: { reachable: true } })
  t.notOk(added.body.includes(new URL(a.url).password), 'the password is never echoed')
  const template = await withClient(a.url, async (c) => (await c.query("SELECT datistemplate FROM pg_database WHERE datname = 'tenant_template'")).rows[0])
  t.same(template, { datistemplate: true }, 'its template was created')
  t.equal((await add('b', b.url, { maxTenants: 100 })).statusCode, 201)
  t.equal((await add('a', b.url)).statusCode, 409, 'names are unique')

  const listed = await app.inject({ method: 'GET', url: '/api/platform/servers', headers: auth })
  t.equal(listed.statusCode, 200)
  const health = listed.json().servers.find((s: { name: string }) => s.name === 'a').health
  t.ok(health.reachable && health.versionNum >= 140000 && health.rttMs >= 0, 'reachable, version, round trip')
  t.ok(health.connectionsUsed >= 1 && health.connectionsAllowed === 100 && health.databaseCount >= 1 && health.sizeBytes > 0, 'connections, databases, size')

  // Only a and b take tenants: the default server drains.
  t.equal((await app.inject({ method: 'POST', url: '/api/platform/servers/default/drain', headers: auth })).statusCode, 200)
  const placed: string[] = []
  for (const n of ['1', '2', '3', '4']) {
    const { tenantId } = await app.provisioning.register(signup(n))
    placed.push((await app.registry.tenant.findUniqueOrThrow({ where: { id: tenantId }, include: { server: true } })).server.name)
  }
  t.same([...placed].sort(), ['a', 'a', 'b', 'b'], 'spread over the least-loaded shared servers')

  t.equal((await app.inject({ method: 'POST', url: '/api/platform/servers/a/drain', headers: auth })).statusCode, 200)
  const next = await app.provisioning.register(signup('5'))
  t.equal((await app.registry.tenant.findUniqueOrThrow({ where: { id: next.tenantId }, include: { server: true } })).server.name, 'b', 'a draining server takes no new tenants')
  await t.rejects(app.provisioning.register(signup('6'), { server: 'a' }), { code: 'CONFLICT', statusCode: 409 }, 'a pin to a draining server is refused')
  const disable = await app.inject({ method: 'POST', url: '/api/platform/servers/a/disable', headers: auth })
  t.equal(disable.statusCode, 409, 'a server holding tenants cannot be disabled')
  t.equal((await app.inject({ method: 'POST', url: '/api/platform/servers/a/enable', headers: auth })).statusCode, 200)
  const pinned = await app.provisioning.register(signup('7'), { server: 'a' })
  t.equal((await app.registry.tenant.findUniqueOrThrow({ where: { id: pinned.tenantId }, include: { server: true } })).server.name, 'a', '--server pins')
  t.equal((await app.inject({ method: 'POST', url: '/api/platform/servers/nope/drain', headers: auth })).statusCode, 404)

  const audit = await app.inject({ method: 'GET', url: '/api/platform/audit?action=server.added', headers: auth })
  t.same(audit.json().entries.map((e: { after: { name: string } }) => e.after.name).sort(), ['a', 'b', 'default'], 'the configured server is added at the first start')
  const drained = await app.inject({ method: 'GET', url: '/api/platform/audit?action=server.drained&limit=1', headers: auth })
  t.equal(drained.json().entries.length, 1)
  t.match(drained.json().entries[0], { actor: 'operator:api', before: { status: 'ACTIVE' }, after: { status: 'DRAINING' } })
  const second = await app.inject({ method: 'GET', url: `/api/platform/audit?action=server.drained&limit=1&cursor=${drained.json().nextCursor as string}`, headers: auth })
  t.equal(second.json().entries.length, 1, 'pages with a cursor')
  t.not(second.json().entries[0].id, drained.json().entries[0].id)
  const placements = await app.inject({ method: 'GET', url: `/api/platform/audit?tenantId=${pinned.tenantId}`, headers: auth })
  t.match(placements.json().entries, [{ action: 'tenant.placed', after: { server: 'a', pinned: true } }])
  const all = await app.registry.auditLog.findMany()
  for (const url of [a.url, b.url]) t.notOk(JSON.stringify(all).includes(new URL(url).password), 'no secret in the audit trail')
})

t.test('a server that cannot hold tenants is refused with its reason and nothing is recorded', async (t) => {
  const app = await build(t)
  const before = await app.registry.databaseServer.count()
  const closed = `postgres://postgres:pw@127.0.0.1:${await freePort()}/postgres`
  const unreachable = await app.inject({ method: 'POST', url: '/api/platform/servers', headers: auth, payload: { name: 'gone', url: closed } })
  t.equal(unreachable.statusCode, 400)
  t.match(unreachable.json(), { code: 'SERVER_REFUSED', message: /unreachable/ })
  t.notOk(unreachable.body.includes(':pw@'), 'the URL is not echoed')

  await withClient(a.url, async (c) => { await c.query("DROP ROLE IF EXISTS weak; CREATE ROLE weak LOGIN PASSWORD 'weak-password-1'") })
  const weakUrl = withDatabase(a.url, 'postgres').replace(/\/\/[^@]+@/, '//weak:weak-password-1@')
  const weak = await app.inject({ method: 'POST', url: '/api/platform/servers', headers: auth, payload: { name: 'weak', url: weakUrl } })
  t.equal(weak.statusCode, 400)
  t.match(weak.json().message, /cannot create databases/)
  t.equal(await app.registry.databaseServer.count(), before, 'no server row')
  t.equal(await app.registry.auditLog.count({ where: { action: 'server.added', actor: { not: 'startup' } } }), 0, 'no audit row')

  t.equal(refusal({ reachable: true, version: '13.9', versionNum: 130009, createDb: true, createRole: true }, 'shared'), 'PostgreSQL 13.9 is too old: 14 or newer is required')
  t.match(refusal({ reachable: true, versionNum: 170000, createDb: true, createRole: false }, 'shared'), /CREATEROLE/)
  t.equal(refusal({ reachable: true, versionNum: 170000, createDb: false, ownsEmptyDatabase: true }, 'byod'), null, 'a BYOD role owning an empty database will do')
})
