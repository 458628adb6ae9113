// Fleet migrations: template first, then each tenant; failures isolated and recorded; a re-run resumes;
// a tenant still on the older schema keeps working meanwhile.
import { createHash } from 'node:crypto'
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { build } from '../helper.js'
import { startEmbeddedPostgres } from '../../src/db/embedded-postgres.js'
import { loadMigrations, MIGRATION_SETS, currentVersion, type Migration } from '../../src/db/migrator.js'
import { createFleetMigrator } from '../../src/tenancy/fleet-migrator.js'
import { TEMPLATE_DATABASE } from '../../src/tenancy/template.js'
import { withClient, withDatabase } from '../../src/db/pg-admin.js'

async function register (app: FastifyInstance, n: string) {
  const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { email: `fleet${n}@example.org`, password: 'fleet password 1234', firstName: 'F', lastName: 'L', churchName: `Fleet ${n}` } })
  return res.json() as { tenantId: string, accessToken: string }
}

t.test('a new tenant migration reaches every tenant, isolating failures, and resumes', async (t) => {
  // Changing a template must not disturb other test files: this test gets a tenant server of its own.
  const server = await startEmbeddedPostgres({ dir: await mkdtemp(path.join(tmpdir(), 'fleet-')), fast: true })
  t.teardown(async () => { await server.stop() })
  const app = await build(t, { TENANT_DATABASE_URL: server.url })
  const a = await register(app, 'a')
  const b = await register(app, 'b')
  const up = 'CREATE TABLE "FleetProbe" (id integer PRIMARY KEY);'
  const extra: Migration = { version: '9999_fleet_probe', up, down: 'DROP TABLE "FleetProbe";', checksum: createHash('sha256').update(up).digest('hex') }
  const migrations = [...await loadMigrations(MIGRATION_SETS.tenant), extra]
  const admin = server.url
  // Tenant B already has a conflicting table, so its migration fails and must not affect A.
  await withClient(withDatabase(admin, `tenant_${b.tenantId}`), async (c) => { await c.query('CREATE TABLE "FleetProbe" (id integer)') })

  const fleet = createFleetMigrator({ registry: app.registry, tenants: app.tenants, servers: app.servers, pool: app.pool, migrations, log: app.log })
  const progress: number[] = []
  const report = await fleet.migrateAll({ concurrency: 2, onProgress: (done) => progress.push(done) })
  t.same(report.migrated, [a.tenantId])
  t.same(report.failed.map((f) => f.tenantId), [b.tenantId])
  t.same(progress, [1, 2])
  t.equal(await withClient(withDatabase(admin, TEMPLATE_DATABASE), currentVersion), '9999_fleet_probe', 'template first')
  // The migrated template was frozen (clones inherit its datfrozenxid): younger than template1's,
  // which it would have kept from its own creation otherwise.
  const ages = await withClient(admin, async (c) => (await c.query<{ datname: string, age: number }>(
    "SELECT datname, age(datfrozenxid) AS age FROM pg_database WHERE datname IN ('template1', $1)", [TEMPLATE_DATABASE])).rows)
  const age = (name: string): number => ages.find((r) => r.datname === name)?.age ?? Number.NaN
  t.ok(age(TEMPLATE_DATABASE) < age('template1'), `template age ${age(TEMPLATE_DATABASE)} < template1 age ${age('template1')}`)
  t.equal((await app.registry.tenant.findUniqueOrThrow({ where: { id: a.tenantId } })).schemaVersion, '9999_fleet_probe')
  t.not((await app.registry.tenant.findUniqueOrThrow({ where: { id: b.tenantId } })).schemaVersion, '9999_fleet_probe')
  t.equal((await app.registry.tenantMigration.findFirstOrThrow({ where: { tenantId: b.tenantId } })).status, 'FAILED')

  // A's own role can use the new table (grants re-applied); B, on the older schema, keeps working.
  const rows = await app.pool.withTenant(a.tenantId, async (db) => await db.$queryRawUnsafe<unknown[]>('SELECT count(*) FROM "FleetProbe"'))
  t.equal(rows.length, 1)
  const meB = await app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${b.accessToken}` } })
  t.equal(meB.statusCode, 200)

  // Fix B and run again: only B is migrated this time.
  await withClient(withDatabase(admin, `tenant_${b.tenantId}`), async (c) => { await c.query('DROP TABLE "FleetProbe"') })
  const again = await fleet.migrateAll()
  t.same(again.migrated, [b.tenantId])
  t.equal(again.upToDate, 1)
  t.equal(again.failed.length, 0)
})
