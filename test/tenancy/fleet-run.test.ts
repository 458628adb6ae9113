// Fleet runs: the plan (templates, a deterministic canary group, the rest), the failure policy, lock
// timeouts retried later in the run, the ledger in each tenant and in the registry, no-op runs that
// touch nobody, rollback back to the same catalog fingerprint, and the connection budget shared with
// live traffic.
import t, { type Test } from 'tap'
import type { FastifyInstance } from 'fastify'
import { connect, withClient, withDatabase } from '../../src/db/pg-admin.js'
import { fingerprint } from '../../src/tenancy/fleet/fingerprint.js'
import { TEMPLATE_DATABASE } from '../../src/tenancy/template.js'
import { until } from '../helpers/wait.js'
import { ADD_COLUMN, fleetApp, fleetOf, inTenant, migrationsWith, RELEASED, tenantVersion } from '../helpers/fleet-fixture.js'

const fleet = await fleetOf(t, 6)
const dir = await migrationsWith([ADD_COLUMN])
const app = await fleetApp(t, fleet, { tenantMigrationsDir: dir })
const print = async (db: string): Promise<string[]> => await withClient(withDatabase(fleet.serverUrl, db), async (c) => (await fingerprint(c)).lines)
const before = await print(`tenant_${fleet.tenants[0] ?? ''}`)
const hasColumn = async (id: string): Promise<boolean> =>
  (await inTenant<{ n: number }>(fleet, id, "SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'Member' AND column_name = 'nickname'"))[0]?.n === 1

t.test('the dry run prints the plan and touches nothing', async (t) => {
  const plan = await app.fleet.plan({ direction: 'up', canary: 2, dryRun: true })
  t.equal(plan.options.target, ADD_COLUMN.version)
  t.same(plan.servers.map((s) => s.pending), [[ADD_COLUMN.version]], 'the template is behind by one version')
  t.equal(plan.canary.length, 2)
  t.equal(plan.rest.length, 4)
  t.same(plan.canary[0]?.pending, [ADD_COLUMN.version])
  const again = await app.fleet.plan({ direction: 'up', canary: 2 })
  t.same(again.canary.map((c) => c.id), plan.canary.map((c) => c.id), 'canaries are chosen deterministically')
  t.equal(await tenantVersion(fleet, TEMPLATE_DATABASE), RELEASED)
  t.equal(await app.registry.fleetRun.count(), 0)
})

t.test('bad input is refused before anything is touched', async (t) => {
  await t.rejects(app.fleet.plan({ direction: 'up', concurrency: 0 }), { statusCode: 400, message: /concurrency must be a whole number of at least 1/ })
  await t.rejects(app.fleet.plan({ direction: 'up', target: '0042_nope' }), { statusCode: 400, message: /unknown target version "0042_nope"/ })
  await t.rejects(app.fleet.plan({ direction: 'up', maxFailures: 'lots' }), { statusCode: 400, message: /max failures must be a count/ })
  t.equal(await app.registry.fleetRun.count(), 0)
})

t.test('a canary failure stops the run before the rest start', async (t) => {
  const plan = await app.fleet.plan({ direction: 'up', canary: 2 })
  const canary = plan.canary[1]?.id ?? ''
  await inTenant(fleet, canary, 'ALTER TABLE "Member" ADD COLUMN "nickname" TEXT')
  const report = await app.fleet.runHere({ direction: 'up', canary: 2, concurrency: 1 })
  t.equal(report.status, 'FAILED')
  t.match(report.reason, /canary tenant .* failed/)
  t.same(report.failures.map((f) => f.tenantId), [canary])
  t.equal(report.groups.rest.done, 0, 'no tenant of the rest was started')
  t.equal(await tenantVersion(fleet, TEMPLATE_DATABASE), ADD_COLUMN.version, 'templates go first')
  for (const rest of plan.rest) t.equal(await tenantVersion(fleet, `tenant_${rest.id}`), RELEASED)
  const run = await app.registry.fleetRun.findFirstOrThrow({ orderBy: { createdAt: 'desc' } })
  t.equal(run.status, 'FAILED')
  t.equal(run.activeSlot, null)
  const failed = await app.registry.tenantMigration.findFirstOrThrow({ where: { runId: run.id, tenantId: canary } })
  t.equal(failed.status, 'FAILED')
  t.match(failed.error, /nickname/)
  await inTenant(fleet, canary, 'ALTER TABLE "Member" DROP COLUMN "nickname"')
})

t.test('after the canaries, failures are recorded up to the allowance; a locked tenant is retried later', async (t) => {
  const plan = await app.fleet.plan({ direction: 'up', canary: 2 })
  const broken = plan.rest[0]?.id ?? ''
  const locked = plan.rest[1]?.id ?? ''
  await inTenant(fleet, broken, 'ALTER TABLE "Member" ADD COLUMN "nickname" TEXT')
  // Live traffic holding a lock past lock_timeout: the tenant waits for a later attempt, not failed.
  const holder = await withClient(withDatabase(fleet.serverUrl, `tenant_${locked}`), async (c) => {
    await c.query('BEGIN; LOCK TABLE "Member" IN ACCESS SHARE MODE')
    const run = app.fleet.runHere({ direction: 'up', canary: 2, concurrency: 2, maxFailures: '1', lockTimeoutMs: 100 })
    // Held until the run has waited on it (and timed out), then let go.
    await until(async () => (await c.query('SELECT 1 FROM pg_locks WHERE NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())')).rowCount === 1, { intervalMs: 10, what: 'the run to wait on the lock' })
    await new Promise((resolve) => setTimeout(resolve, 300))
    await c.query('COMMIT')
    return await run
  })
  t.equal(holder.status, 'SUCCEEDED')
  t.same(holder.failures.map((f) => f.tenantId), [broken])
  t.ok(holder.groups.rest.retries >= 1, `lock retries: ${holder.groups.rest.retries}`)
  const runId = holder.runId ?? ''
  const rows = await app.registry.tenantMigration.findMany({ where: { runId } })
  // The first canary was migrated by the run that stopped: this one planned the other five.
  t.same(rows.map((r) => r.tenantId).sort(), [...plan.canary, ...plan.rest].map((p) => p.id).sort(), 'one ledger row per tenant in the run')
  for (const id of fleet.tenants) {
    const row = rows.find((r) => r.tenantId === id)
    const tenant = await app.registry.tenant.findUniqueOrThrow({ where: { id } })
    if (id === broken) {
      t.equal(row?.status, 'FAILED')
      t.equal(tenant.schemaVersion, RELEASED)
      continue
    }
    if (row !== undefined) {
      t.equal(row.status, 'APPLIED')
      t.equal(row.fromVersion, RELEASED)
      t.equal(row.version, ADD_COLUMN.version)
      t.ok((row.durationMs ?? -1) >= 0 && row.startedAt !== null && row.finishedAt !== null)
    }
    t.equal(tenant.schemaVersion, ADD_COLUMN.version)
    t.ok(await hasColumn(id))
  }
  t.equal(rows.find((r) => r.tenantId === locked)?.attempts, holder.groups.rest.retries + 1)
  // The tenant's own role reads the new column (the template's default privileges cover it).
  const seen = await app.pool.withTenant(locked, async (db) => await db.$queryRawUnsafe<unknown[]>('SELECT "nickname" FROM "Member"'))
  t.ok(Array.isArray(seen))

  // Resumable: once fixed, the next run takes only what is left; current tenants keep their clients.
  await inTenant(fleet, broken, 'ALTER TABLE "Member" DROP COLUMN "nickname"')
  const current = fleet.tenants.find((id) => id !== broken) ?? ''
  await app.pool.withTenant(current, async () => {})
  await app.pool.withTenant(broken, async () => {})
  const evictions = app.pool.stats().evictions
  const rest = await app.fleet.runHere({ direction: 'up' })
  t.equal(rest.status, 'SUCCEEDED')
  t.equal(rest.groups.canary.total + rest.groups.rest.total, 1, 'only the failed tenant is planned')
  t.equal(rest.upToDate, 5)
  t.equal(app.pool.stats().evictions, evictions + 1, 'only the migrated tenant lost its cached client')
  t.equal(await app.registry.tenantMigration.count({ where: { runId: rest.runId ?? '' } }), 1)
  const hits = app.pool.stats().hits
  await app.pool.withTenant(current, async () => {})
  t.equal(app.pool.stats().hits, hits + 1, 'an up-to-date tenant kept its client')

  const noop = await app.fleet.runHere({ direction: 'up' })
  t.equal(noop.groups.canary.total + noop.groups.rest.total, 0)
  t.equal(noop.upToDate, 6)
  t.equal(await app.registry.tenantMigration.count({ where: { runId: noop.runId ?? '' } }), 0, 'nobody reconnected')
})

t.test('verify finds no drift, then names the tenant and the difference', async (t) => {
  const clean = await app.fleet.verify()
  t.equal(clean.checked, 6)
  t.same(clean.drifted, [])
  const [a, b, c] = fleet.tenants as [string, string, string]
  await inTenant(fleet, a, 'ALTER TABLE "Member" ADD COLUMN "shoeSize" integer')
  await inTenant(fleet, b, 'DROP INDEX "Member_nickname_idx"')
  // Functions are found through their dependency on the schema (pg_depend), not a scan of pg_proc.
  await inTenant(fleet, c, "CREATE FUNCTION public.drift_probe(n integer) RETURNS integer LANGUAGE sql AS 'SELECT n'")
  const report = await app.fleet.verify()
  t.same(report.drifted.map((d) => d.tenantId).sort(), [a, b, c].sort())
  t.match(report.drifted.find((d) => d.tenantId === a)?.problems, [/\+ column public\.Member\.shoeSize integer/])
  t.match(report.drifted.find((d) => d.tenantId === b)?.problems, [/- index CREATE INDEX "Member_nickname_idx"/])
  t.match(report.drifted.find((d) => d.tenantId === c)?.problems, [/\+ function public\.drift_probe\(n integer\)/])
  await inTenant(fleet, a, 'ALTER TABLE "Member" DROP COLUMN "shoeSize"')
  await inTenant(fleet, b, 'CREATE INDEX "Member_nickname_idx" ON "Member"("nickname")')
  await inTenant(fleet, c, 'DROP FUNCTION public.drift_probe(integer)')
})

t.test('rollback runs the down scripts across templates and tenants; the schema is as before', async (t) => {
  const dry = await app.fleet.plan({ direction: 'down' })
  t.equal(dry.options.target, RELEASED, 'one version back by default')
  const report = await app.fleet.runHere({ direction: 'down', canary: 1 })
  t.equal(report.status, 'SUCCEEDED')
  t.equal(report.groups.canary.migrated + report.groups.rest.migrated, 6)
  t.same(report.templates.map((x) => [x.from, x.to]), [[ADD_COLUMN.version, RELEASED]])
  t.equal(await tenantVersion(fleet, TEMPLATE_DATABASE), RELEASED)
  for (const id of fleet.tenants) {
    t.notOk(await hasColumn(id))
    t.equal((await app.registry.tenant.findUniqueOrThrow({ where: { id } })).schemaVersion, RELEASED)
  }
  t.same(await print(`tenant_${fleet.tenants[0] ?? ''}`), before, 'catalog fingerprint after up + down equals before')
  t.same((await app.fleet.verify()).drifted, [])
  // The run reported through app.metrics.fleet as it went (what GET /metrics exports).
  const metrics = await app.metrics.render()
  const gauge = (state: string): number => Number(new RegExp(`fleet_migration_tenants\\{run="${report.runId ?? ''}",state="${state}"\\} (\\d+)`).exec(metrics)?.[1] ?? -1)
  t.same(['total', 'done', 'migrated', 'failed', 'in_flight'].map(gauge), [6, 6, 6, 0, 0], 'done, failed and in flight per run')
  t.match(metrics, /fleet_migration_runs_total\{result="succeeded"\} [1-9]/)
  await t.rejects(app.fleet.plan({ direction: 'down', target: 'nope' }), { statusCode: 400, message: /unknown target version/ })
})

// The same fleet, now at 0001 again, behind an app whose servers have a budget of 6 connections.
const BUDGET = 6
const budgetFleet = async (t: Test): Promise<FastifyInstance> => {
  // The first app's cached clients would count against the server too.
  await app.close()
  const slowDir = await migrationsWith([{
    version: '9001_slow_member_column',
    up: 'ALTER TABLE "Member" ADD COLUMN "nickname" TEXT;\nSELECT pg_sleep(0.15);\n',
    down: 'ALTER TABLE "Member" DROP COLUMN "nickname";\n'
  }])
  return await fleetApp(t, fleet, { tenantMigrationsDir: slowDir }, { pool: { ...fleet.config.pool, connectionBudget: BUDGET, connectionsPerClient: 2 } })
}

t.test('traffic during a run: connections stay within the budget and every request is served', async (t) => {
  const budgetApp = await budgetFleet(t)
  const plan = await budgetApp.fleet.plan({ direction: 'up' })
  t.equal(plan.concurrency, 3, `${BUDGET} connections are ${BUDGET} slots (one per idle client or migration), half of them for the run`)
  const watcher = await connect(fleet.serverUrl)
  t.teardown(async () => { await watcher.end() })
  let peak = 0
  const state = { running: true }
  const watch = (async () => {
    while (state.running) {
      const { rows } = await watcher.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname LIKE 'tenant\\_%' AND datname <> 'tenant_template'")
      peak = Math.max(peak, rows[0]?.n ?? 0)
      await new Promise((resolve) => setTimeout(resolve, 5))
    }
  })()
  const statuses: number[] = []
  const traffic = Promise.all(fleet.tokens.map(async (token) => {
    while (state.running) {
      const res = await budgetApp.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${token}` } })
      statuses.push(res.statusCode)
    }
  }))
  // The run asks for every slot at once: it still gets only what the pool can lend.
  const report = await budgetApp.fleet.runHere({ direction: 'up', canary: 1, concurrency: BUDGET })
  state.running = false
  await traffic
  await watch
  t.equal(report.status, 'SUCCEEDED')
  t.equal(report.groups.canary.migrated + report.groups.rest.migrated, 6)
  t.ok(peak >= 2, `connections seen during the run: ${peak}`)
  t.ok(peak <= BUDGET, `peak ${peak} tenant connections within the budget of ${BUDGET}`)
  t.ok(report.peakConnections <= BUDGET, `the run held at most ${report.peakConnections} slots`)
  t.ok(statuses.length > 4, `${statuses.length} requests during the run`)
  t.same([...new Set(statuses)], [200], 'every request was served')
})
