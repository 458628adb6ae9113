// The operator API for fleet runs: dry run, 202 with an id, 409 while a run is active, progress by
// group, cancel after the tenants in flight, and a run that survives a worker restart.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { TEST_SECRETS } from '../helper.js'
import { until } from '../helpers/wait.js'
import { TEMPLATE_DATABASE } from '../../src/tenancy/template.js'
import { fleetApp, fleetOf, inTenant, migrationsWith, tenantVersion } from '../helpers/fleet-fixture.js'

const PROBE = {
  version: '9001_probe_log',
  up: 'CREATE TABLE "ProbeLog" (n integer);\nINSERT INTO "ProbeLog" VALUES (1);\nSELECT pg_sleep(0.3);\n',
  down: 'SELECT pg_sleep(0.3);\nDROP TABLE "ProbeLog";\n'
}
const headers = { authorization: `Bearer ${TEST_SECRETS.PLATFORM_ADMIN_TOKEN}` }
const fleet = await fleetOf(t, 4)
const dir = await migrationsWith([PROBE])
const worker = { worker: { enabled: true } }

const start = async (app: FastifyInstance, payload: Record<string, unknown>) => await app.inject({ method: 'POST', url: '/api/platform/migrations', headers, payload })
const get = async (app: FastifyInstance, id: string) => (await app.inject({ method: 'GET', url: `/api/platform/migrations/${id}`, headers })).json()

t.test('start, 409 while active, survive a worker restart, cancel', async (t) => {
  const first = await fleetApp(t, fleet, { tenantMigrationsDir: dir }, worker)
  t.equal((await first.inject({ method: 'POST', url: '/api/platform/migrations', payload: {} })).statusCode, 401)
  const dry = await start(first, { dryRun: true, canary: 1 })
  t.equal(dry.statusCode, 200)
  t.match(dry.json().plan, { target: PROBE.version, groups: { canary: 1, rest: 3 }, servers: [{ pending: [PROBE.version] }] })
  const zero = await start(first, { concurrency: 0 })
  t.equal(zero.statusCode, 400)
  t.match(zero.json(), { code: 'BAD_REQUEST', message: /concurrency must be a whole number of at least 1/ })
  t.equal((await start(first, { target: '0099_unknown' })).statusCode, 400)

  const started = await start(first, { canary: 1, concurrency: 1 })
  t.equal(started.statusCode, 202)
  const id = started.json().id as string
  const again = await start(first, { canary: 1 })
  t.equal(again.statusCode, 409, 'one run at a time')
  t.match(again.json().message, id)

  await until(async () => ((await get(first, id)).ledger.APPLIED ?? 0) >= 1, { timeoutMs: 90_000, intervalMs: 50, what: 'a first tenant migrated by the worker' })
  // The worker stops (a deploy): the run stops after the tenant in flight and stays active.
  await first.close()
  const second = await fleetApp(t, fleet, { tenantMigrationsDir: dir }, worker)
  const paused = await get(second, id)
  t.not(paused.status, 'SUCCEEDED')
  await until(async () => (await get(second, id)).status === 'SUCCEEDED', { timeoutMs: 30_000, intervalMs: 100, what: 'the resumed run to finish' })
  const done = await get(second, id)
  t.same(done.failures, [])
  t.equal(done.ledger.APPLIED, 4)
  t.equal(await tenantVersion(fleet, TEMPLATE_DATABASE), PROBE.version, 'the template was migrated first')
  for (const tenantId of fleet.tenants) {
    t.same(await inTenant(fleet, tenantId, 'SELECT count(*)::int AS n FROM "ProbeLog"'), [{ n: 1 }], 'applied once across the restart')
  }

  const rollback = await start(second, { direction: 'down', canary: 1, concurrency: 1 })
  t.equal(rollback.statusCode, 202)
  const rollbackId = rollback.json().id as string
  const cancelled = await second.inject({ method: 'POST', url: `/api/platform/migrations/${rollbackId}/cancel`, headers })
  t.equal(cancelled.statusCode, 202)
  t.equal(cancelled.json().cancelRequested, true)
  await until(async () => (await get(second, rollbackId)).status === 'CANCELLED', { timeoutMs: 30_000, intervalMs: 100, what: 'the cancelled run to stop' })
  const stopped = await get(second, rollbackId)
  t.ok((stopped.ledger.APPLIED ?? 0) < 4, `stopped after the tenants in flight (${stopped.ledger.APPLIED ?? 0} rolled back)`)
  t.equal((await second.inject({ method: 'GET', url: '/api/platform/migrations/nope', headers })).statusCode, 404)
  t.equal((await start(second, { dryRun: true })).statusCode, 200, 'nothing active any more')
})
