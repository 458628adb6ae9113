// Cross-process cache invalidation: a change to a tenant's registry row or to a phone number route is
// announced (trigger + NOTIFY) and every process drops its cached copy at once; bookkeeping writes
// announce nothing; a dropped listener comes back.
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { connect } from '../../src/db/pg-admin.js'
import { createTelnyxSigner } from '../helpers/telnyx-signer.js'
import { assignNumber, inboundEvent, postWebhook, uniqueNumber } from '../helpers/messaging-fixture.js'
import { ANNOUNCED_TTL_MS } from '../../src/registry/tenant-directory.js'
import { build, registerOrganization } from '../helper.js'

t.test('the registry announces tenant changes that matter, and only those', async (t) => {
  const app = await build(t)
  const { tenantId } = (await registerOrganization(app)).json() as { tenantId: string }
  const listener = await connect(app.config.databaseUrl as string)
  t.teardown(async () => { await listener.end() })
  const heard: string[] = []
  listener.on('notification', (m) => { if (m.channel === 'tenant_changed') heard.push(m.payload ?? '') })
  await listener.query('LISTEN tenant_changed')

  await app.registry.tenant.update({ where: { id: tenantId }, data: { lastAccessedAt: new Date() } })
  await sleep(200)
  t.same(heard, [], 'lastAccessedAt alone is bookkeeping')
  await app.registry.tenant.update({ where: { id: tenantId }, data: { status: 'SUSPENDED' } })
  await app.registry.tenant.update({ where: { id: tenantId }, data: { timezone: 'America/Denver' } })
  for (let i = 0; i < 100 && heard.length < 2; i++) await sleep(10)
  t.same(heard, [tenantId, tenantId])
})

t.test('a tenant suspended by one process is refused by another at once, not when its cache expires', async (t) => {
  const a = await build(t)
  const b = await build(t, { DATABASE_URL: a.config.databaseUrl as string })
  const org = (await registerOrganization(a)).json() as { tenantId: string, accessToken: string }
  const me = async () => await b.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${org.accessToken}` } })
  t.equal((await me()).statusCode, 200, 'B has the tenant cached as active')

  await a.registry.tenant.update({ where: { id: org.tenantId }, data: { status: 'SUSPENDED' } })
  let status = 0
  const started = Date.now()
  for (let i = 0; i < 200 && status !== 403; i++) {
    status = (await me()).statusCode
    if (status !== 403) await sleep(10)
  }
  t.equal(status, 403)
  t.ok(Date.now() - started < 2000, `refused after ${Date.now() - started} ms; the cache would have kept it for ${ANNOUNCED_TTL_MS / 1000} s`)
  t.equal((await me()).json().code, 'TENANT_SUSPENDED')
})

t.test('a dropped listener connection comes back and changes are announced again', async (t) => {
  const a = await build(t)
  const b = await build(t, { DATABASE_URL: a.config.databaseUrl as string })
  const org = (await registerOrganization(a)).json() as { tenantId: string, accessToken: string }
  const admin = await connect(a.config.databaseUrl as string)
  t.teardown(async () => { await admin.end() })
  const listeners = async (): Promise<number[]> => (await admin.query<{ pid: number }>(
    "SELECT pid FROM pg_stat_activity WHERE application_name = 'church-sms-listener' AND datname = current_database() ORDER BY pid")).rows.map((r) => r.pid)
  const before = await listeners()
  t.equal(before.length, 2, 'one listener per process')
  await admin.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [before])
  let after: number[] = []
  for (let i = 0; i < 300 && after.length < 2; i++) {
    await sleep(20)
    after = (await listeners()).filter((pid) => !before.includes(pid))
  }
  t.equal(after.length, 2, 'both processes listen again')

  const me = async () => await b.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${org.accessToken}` } })
  t.equal((await me()).statusCode, 200)
  await a.registry.tenant.update({ where: { id: org.tenantId }, data: { status: 'SUSPENDED' } })
  let status = 0
  for (let i = 0; i < 200 && status !== 403; i++) {
    status = (await me()).statusCode
    if (status !== 403) await sleep(10)
  }
  t.equal(status, 403)
})

t.test('a number released through one process stops routing in another at once', async (t) => {
  const signer = createTelnyxSigner()
  const env = { TELNYX_PUBLIC_KEY: signer.publicKeyBase64 }
  const a = await build(t, env)
  const b = await build(t, { ...env, DATABASE_URL: a.config.databaseUrl as string })
  const res = await registerOrganization(a)
  const org = res.json() as { tenantId: string, accessToken: string }
  const number = uniqueNumber()
  await assignNumber(a, { ...org, auth: { authorization: `Bearer ${org.accessToken}` } }, number)
  const deliver = async (): Promise<string> => (await postWebhook(b, signer, inboundEvent({ to: number, text: 'hello' }))).json().outcome
  t.equal(await deliver(), 'stored', 'B routes the number (and caches the route for a minute)')

  const released = await a.inject({ method: 'DELETE', url: `/api/phone-numbers/${encodeURIComponent(number)}`, headers: { authorization: `Bearer ${org.accessToken}` } })
  t.equal(released.statusCode, 204)
  let outcome = ''
  const started = Date.now()
  for (let i = 0; i < 200 && outcome !== 'unrouted'; i++) {
    outcome = await deliver()
    if (outcome !== 'unrouted') await sleep(10)
  }
  t.equal(outcome, 'unrouted')
  t.ok(Date.now() - started < 2000, `unrouted after ${Date.now() - started} ms`)
})
