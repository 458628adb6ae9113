// Live moves between two embedded servers (wal_level=logical): under a steady write load and arriving
// webhooks, writes are refused only during the freeze (503 TENANT_MOVING, Retry-After) and retried,
// reads keep working, nothing is lost or doubled, held webhooks are applied after the switch, the old
// database refuses writes and is dropped after the grace period; bad requests get 409.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { withClient, withDatabase } from '../../src/db/pg-admin.js'
import { TEST_SECRETS } from '../helper.js'
import { startExtraServers } from '../helpers/extra-servers.js'
import { assignNumber, inboundEvent, postWebhook, signup, telnyxAppOn, uniqueNumber, type Org } from '../helpers/move-fixture.js'

const operator = { authorization: `Bearer ${TEST_SECRETS.PLATFORM_ADMIN_TOKEN}` }
const [a, b] = await startExtraServers(t, 2, { logicalReplication: true })
if (a === undefined || b === undefined) throw new Error('servers did not start')

async function rowsOn (url: string, database: string, sql: string): Promise<Array<Record<string, unknown>>> {
  return await withClient(withDatabase(url, database), async (c) => (await c.query(sql)).rows)
}

/** A client writing members back to back; a 503 is retried after its Retry-After. */
function writeLoad (app: FastifyInstance, org: Org) {
  const acknowledged: string[] = []
  let refused = 0
  let otherErrors = 0
  const stop = { now: false }
  let n = 0
  const done = (async () => {
    while (!stop.now) {
      const phone = `+1415555${String(1000 + (n++ % 9000)).padStart(4, '0')}`
      for (;;) {
        const res = await app.inject({ method: 'POST', url: '/api/members', headers: org.auth, payload: { firstName: 'W', lastName: String(n), phone } })
        if (res.statusCode === 201) { acknowledged.push(res.json().id); break }
        if (res.statusCode === 503 && res.json().code === 'TENANT_MOVING' && res.headers['retry-after'] === '1') { refused++; await new Promise((resolve) => setTimeout(resolve, 20)); continue }
        otherErrors++
        break
      }
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  })()
  return { acknowledged, stats: () => ({ refused, otherErrors }), stop: async () => { stop.now = true; await done } }
}

t.test('a move under write load, reads and webhooks', async (t) => {
  const { app, signer } = await telnyxAppOn(t, a.url, { MOVE_GRACE_MS: '3600000' })
  t.equal((await app.inject({ method: 'POST', url: '/api/platform/servers', headers: operator, payload: { name: 'b', url: b.url } })).statusCode, 201)
  const org = await signup(app)
  const number = uniqueNumber()
  await assignNumber(app, org, number)
  const before = await app.registry.tenant.findUniqueOrThrow({ where: { id: org.tenantId }, include: { server: true } })
  t.equal(before.server.name, 'default')

  const load = writeLoad(app, org)
  let reads = 0
  let readFailures = 0
  const readsStop = { now: false }
  const reader = (async () => {
    while (!readsStop.now) {
      const res = await app.inject({ method: 'GET', url: '/api/members?limit=5', headers: org.auth })
      if (res.statusCode === 200) reads++
      else readFailures++
      await new Promise((resolve) => setTimeout(resolve, 15))
    }
  })()
  const webhookIds: string[] = []
  const webhookStatuses: number[] = []
  const hooksStop = { now: false }
  const hooks = (async () => {
    while (!hooksStop.now) {
      const event = inboundEvent({ to: number, from: `+1312555${String(1000 + webhookIds.length).padStart(4, '0')}`, text: `hello ${webhookIds.length}` })
      webhookIds.push((event.data as { payload: { id: string } }).payload.id)
      webhookStatuses.push((await postWebhook(app, signer, event)).statusCode)
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  })()
  await new Promise((resolve) => setTimeout(resolve, 300))

  const moved = await app.inject({ method: 'POST', url: `/api/platform/tenants/${org.tenantId}/move`, headers: operator, payload: { to: 'b' } })
  t.equal(moved.statusCode, 200, moved.body)
  const report = moved.json()
  t.match(report, { from: 'default', to: 'b', method: 'LOGICAL' })
  t.ok(report.freezeMs > 0, 'writes were frozen for a while')
  await new Promise((resolve) => setTimeout(resolve, 300))
  await load.stop()
  readsStop.now = true
  hooksStop.now = true
  await Promise.all([reader, hooks])

  const after = await app.registry.tenant.findUniqueOrThrow({ where: { id: org.tenantId }, include: { server: true } })
  t.equal(after.server.name, 'b', 'the directory points at the new server')
  t.equal(after.writesFrozenAt, null, 'writes are open again')
  t.same(load.stats().otherErrors, 0, 'no write failed other than with TENANT_MOVING')
  t.equal(readFailures, 0, `every read succeeded (${reads})`)
  t.ok(webhookStatuses.every((s) => s === 200), `every webhook was accepted (${webhookStatuses.length})`)

  const members = await rowsOn(b.url, after.databaseName, 'SELECT id FROM "Member"')
  const ids = new Set(members.map((m) => m.id))
  t.ok(load.acknowledged.length > 10, `writes went on (${load.acknowledged.length}, ${load.stats().refused} refused and retried)`)
  t.equal(load.acknowledged.filter((id) => !ids.has(id)).length, 0, 'no acknowledged write is lost')
  t.equal(new Set(load.acknowledged).size, load.acknowledged.length, 'none is doubled')
  const messages = await rowsOn(b.url, after.databaseName, 'SELECT "providerMessageId" AS id FROM "ConversationMessage"')
  const stored = messages.map((m) => m.id)
  t.equal(webhookIds.filter((id) => !stored.includes(id)).length, 0, 'every webhook is applied on the new server')
  t.equal(new Set(stored).size, stored.length, 'none twice')
  t.equal(await app.registry.heldWebhook.count(), 0, 'nothing is left held')

  // The old database is kept, closed to writes, and dropped after the grace period.
  const old = await withClient(withDatabase(a.url, before.databaseName), async (c) =>
    (await c.query("SELECT has_table_privilege($1, '\"Member\"', 'INSERT') AS insert, has_table_privilege($1, '\"Member\"', 'SELECT') AS select", [before.databaseUser])).rows[0])
  t.same(old, { insert: false, select: true }, 'the old database is kept read-only')
  const slots = await rowsOn(a.url, 'postgres', 'SELECT slot_name FROM pg_replication_slots')
  t.same(slots, [], 'no replication slot is left on the source')
  const report2 = await app.moves.recovery.reconcile(new Date(Date.now() + 2 * 3600_000))
  t.same(report2.oldDatabasesDropped, [org.tenantId])
  const left = await rowsOn(a.url, 'postgres', `SELECT datname FROM pg_database WHERE datname = '${before.databaseName}'`)
  t.same(left, [], 'the old database is dropped after the grace period')

  const audit = await app.registry.auditLog.findMany({ where: { tenantId: org.tenantId, action: 'tenant.moved' } })
  t.match(audit, [{ actor: 'operator:api', before: { server: 'default' }, after: { server: 'b', method: 'LOGICAL' } }])
  t.notOk(JSON.stringify(await app.registry.auditLog.findMany()).includes(new URL(b.url).password), 'no secret in the audit trail')

  // It works from its new home.
  const res = await app.inject({ method: 'POST', url: '/api/members', headers: org.auth, payload: { firstName: 'After', lastName: 'Move', phone: '+14155550999' } })
  t.equal(res.statusCode, 201)
})

t.test('moves that make no sense are refused with 409', async (t) => {
  const { app } = await telnyxAppOn(t, a.url, {})
  for (const [name, url] of [['b', b.url]] as const) t.equal((await app.inject({ method: 'POST', url: '/api/platform/servers', headers: operator, payload: { name, url } })).statusCode, 201)
  const org = await signup(app)
  const move = async (to: string) => await app.inject({ method: 'POST', url: `/api/platform/tenants/${org.tenantId}/move`, headers: operator, payload: { to } })
  t.match((await move('default')).json(), { statusCode: 409, code: 'MOVE_REFUSED', message: /already on server default/ })
  await app.serverAdmin.transition('b', 'drain', 'test')
  t.match((await move('b')).json(), { statusCode: 409, message: /draining/ })
  await app.serverAdmin.transition('b', 'disable', 'test')
  t.match((await move('b')).json(), { statusCode: 409, message: /disabled/ })
  await app.serverAdmin.transition('b', 'enable', 'test')
  t.equal((await move('nowhere')).statusCode, 404)

  // A second move while the first one is under way.
  let release: () => void = () => {}
  const held = new Promise<void>((resolve) => { release = resolve })
  let reached: () => void = () => {}
  const atSync = new Promise<void>((resolve) => { reached = resolve })
  const { app: slow } = await telnyxAppOn(t, a.url, {}, { afterMoveStep: async (step) => { if (step === 'SYNCED') { reached(); await held } } }, app.config.databaseUrl)
  const first = slow.moves.move(org.tenantId, 'b', { actor: 'test' })
  await atSync
  t.match((await move('b')).json(), { statusCode: 409, message: /already moving/ })
  release()
  t.match(await first, { to: 'b' })
  t.equal((await app.registry.tenant.findUniqueOrThrow({ where: { id: org.tenantId } })).serverId, (await app.serverAdmin.byName('b')).id)
  t.match((await move('default')).json(), { statusCode: 409, message: /previous database on default is kept/ })
})
