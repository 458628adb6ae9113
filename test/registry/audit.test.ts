// The audit trail of where data lives: each change (server added, drained, enabled, disabled; tenant
// placed at sign-up, moved, its database set and tested; keys rotated) writes one row with its actor,
// tenant, before and after; a refused change writes none; GET /api/platform/audit pages through them
// with filters; no password or URL appears anywhere in it.
import t from 'tap'
import { withClient, withDatabase } from '../../src/db/pg-admin.js'
import { build, registerOrganization, TEST_SECRETS } from '../helper.js'
import { startExtraServers } from '../helpers/extra-servers.js'

const operator = { authorization: `Bearer ${TEST_SECRETS.PLATFORM_ADMIN_TOKEN}` }
const [home, other, own] = await startExtraServers(t, 3)
if (home === undefined || other === undefined || own === undefined) throw new Error('servers did not start')
const BYOD_PW = 'byod-Audit-secret-7'
await withClient(own.url, async (c) => { await c.query(`CREATE ROLE org_admin LOGIN CREATEDB PASSWORD '${BYOD_PW}'`) })
const byodUrl = withDatabase(own.url, 'postgres').replace(/\/\/[^@]+@/, `//org_admin:${BYOD_PW}@`)

interface Entry { id: string, actor: string, action: string, tenantId: string | null, serverId: string | null, before: Record<string, unknown> | null, after: Record<string, unknown> | null, createdAt: string }

t.test('every change to where data lives is audited, paged and filtered, without secrets', async (t) => {
  const app = await build(t, { TENANT_DATABASE_URL: home.url, MOVE_GRACE_MS: '0' })
  const post = async (url: string, payload?: object) => await app.inject({ method: 'POST', url, headers: operator, ...(payload === undefined ? {} : { payload }) })
  const ok = async (url: string, payload?: object) => {
    const res = await post(url, payload)
    t.equal(res.statusCode < 300, true, `${url}: ${res.statusCode} ${res.statusCode < 300 ? '' : res.body}`)
    return res
  }

  await ok('/api/platform/servers', { name: 'other', url: other.url })
  await ok('/api/platform/servers/other/drain')
  const signup = (await registerOrganization(app, 'Audited Church')).json() as { tenantId: string }
  const tenantId = signup.tenantId
  await ok('/api/platform/servers/other/enable')
  // Refused: the default server holds a tenant. No row for it.
  t.equal((await post('/api/platform/servers/default/disable')).statusCode, 409)
  await ok(`/api/platform/tenants/${tenantId}/move`, { to: 'other' })
  await ok(`/api/platform/tenants/${tenantId}/database`, { url: byodUrl })
  await ok(`/api/platform/tenants/${tenantId}/database/test`)
  await ok('/api/platform/servers/other/disable')
  await ok('/api/platform/keys/rotate')

  const rows = await app.registry.auditLog.findMany({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] })
  const servers = Object.fromEntries((await app.registry.databaseServer.findMany()).map((s) => [s.name, s.id]))
  const byodServer = (await app.registry.tenant.findUniqueOrThrow({ where: { id: tenantId }, include: { server: true } })).server
  t.equal(byodServer.kind, 'BYOD')
  t.same(rows.map((r) => r.action), [
    'server.added', 'server.added', 'server.drained', 'tenant.placed', 'server.enabled',
    'tenant.move_started', 'tenant.moved', 'tenant.old_database_dropped',
    'tenant.move_started', 'tenant.moved', 'tenant.old_database_dropped', 'tenant.database_set',
    'tenant.database_tested', 'server.disabled', 'keys.rotated'
  ], 'one row per change, in order; none for the refused disable')
  const of = (action: string) => rows.filter((r) => r.action === action)
  t.match(of('server.added'), [
    { actor: 'startup', serverId: servers.default, after: { name: 'default', port: home.port } },
    { actor: 'operator:api', serverId: servers.other, after: { name: 'other', kind: 'SHARED', port: other.port } }
  ])
  t.match(of('server.drained'), [{ actor: 'operator:api', serverId: servers.other, before: { status: 'ACTIVE' }, after: { status: 'DRAINING' } }])
  t.match(of('server.enabled'), [{ before: { status: 'DRAINING' }, after: { status: 'ACTIVE' } }])
  t.match(of('server.disabled'), [{ serverId: servers.other, before: { status: 'ACTIVE' }, after: { status: 'DISABLED' } }])
  t.match(of('tenant.placed'), [{ actor: 'sign-up', tenantId, serverId: servers.default, after: { server: 'default', pinned: false } }])
  t.match(of('tenant.moved'), [
    { actor: 'operator:api', tenantId, before: { server: 'default', port: home.port }, after: { server: 'other', port: other.port, method: 'COPY' } },
    { tenantId, before: { server: 'other' }, after: { server: byodServer.name, port: own.port } }
  ])
  t.match(of('tenant.database_set'), [{ actor: 'operator:api', tenantId, serverId: byodServer.id, before: { server: 'other', kind: 'SHARED' }, after: { kind: 'BYOD', user: 'org_admin', port: own.port, ownDatabase: false } }])
  t.match(of('tenant.database_tested'), [{ tenantId, after: { ok: true, target: 'tenant' } }])
  t.match(of('keys.rotated'), [{ actor: 'operator:api', after: { keyId: 'k1' } }])

  // Paging: newest first, a cursor per page, every row exactly once.
  const seen: Entry[] = []
  let cursor: string | null = null
  do {
    const res = await app.inject({ method: 'GET', url: `/api/platform/audit?limit=4${cursor === null ? '' : `&cursor=${cursor}`}`, headers: operator })
    t.equal(res.statusCode, 200)
    const page = res.json() as { entries: Entry[], nextCursor: string | null }
    t.ok(page.entries.length <= 4)
    seen.push(...page.entries)
    cursor = page.nextCursor
  } while (cursor !== null)
  t.same(seen.map((e) => e.id), [...rows].reverse().map((r) => r.id), 'pages cover the trail newest first')

  const filter = async (query: string): Promise<Entry[]> => {
    const res = await app.inject({ method: 'GET', url: `/api/platform/audit?${query}`, headers: operator })
    t.equal(res.statusCode, 200, res.body)
    return (res.json() as { entries: Entry[] }).entries
  }
  t.same((await filter(`tenantId=${tenantId}`)).map((e) => e.action).sort(), rows.filter((r) => r.tenantId === tenantId).map((r) => r.action).sort(), 'by tenant')
  t.same((await filter(`serverId=${servers.other as string}`)).map((e) => e.action).reverse(), ['server.added', 'server.drained', 'server.enabled', 'tenant.move_started', 'tenant.moved', 'tenant.old_database_dropped', 'server.disabled'], 'by server')
  t.same((await filter('action=server.*')).length, 5, 'by kind of action')
  t.same((await filter('action=tenant.moved')).length, 2, 'by action')
  t.same((await filter('actor=startup')).map((e) => e.action), ['server.added'], 'by actor')
  const middle = rows[5]?.createdAt.toISOString() ?? ''
  t.same((await filter(`until=${encodeURIComponent(middle)}`)).length, 5, 'until (exclusive)')
  t.same((await filter(`since=${encodeURIComponent(middle)}`)).length, rows.length - 5, 'since')
  t.equal((await app.inject({ method: 'GET', url: '/api/platform/audit?since=yesterday', headers: operator })).statusCode, 400, 'a bad date is a 400')
  t.equal((await app.inject({ method: 'GET', url: '/api/platform/audit' })).statusCode, 401, 'operators only')

  const text = JSON.stringify(rows)
  for (const secret of [BYOD_PW, new URL(home.url).password, new URL(other.url).password, new URL(own.url).password]) t.notOk(text.includes(secret), 'no password in the trail')
  t.notOk(/postgres(ql)?:\/\//.test(text), 'no connection URL in the trail')
})
