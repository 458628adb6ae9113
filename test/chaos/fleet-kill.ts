// PostgreSQL SIGKILLed in the middle of a fleet migration started through the operator API and run by
// the worker: /ready reports the outage, the service recovers without a restart, the run carries on by
// itself and ends SUCCEEDED with every tenant migrated exactly once (its own ledger, the registry's
// ledger and a probe row the migration inserts), and `verify` finds no drift.
import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { MIGRATION_SETS } from '../../src/db/migrator.js'
import { checks, SECRETS, sleep, startWorld, until } from './world.js'

const TENANTS = Number(process.env.CHAOS_FLEET_TENANTS ?? 30)
// Additive, as bench/fleet.ts's, plus a probe: more than one FleetProbe row means the file ran twice.
// The sleep spreads the run over a few seconds, so that the kill lands in the middle of it.
const MIGRATION = {
  version: '9001_chaos_member_nickname',
  up: 'ALTER TABLE "Member" ADD COLUMN "nickname" TEXT;\nCREATE INDEX "Member_nickname_idx" ON "Member"("nickname");\n' +
    'CREATE TABLE "FleetProbe" (n integer);\nINSERT INTO "FleetProbe" VALUES (1);\nSELECT pg_sleep(0.3);\n',
  down: 'DROP TABLE "FleetProbe";\nDROP INDEX "Member_nickname_idx";\nALTER TABLE "Member" DROP COLUMN "nickname";\n'
}

async function migrationsFolder (): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'chaos-fleet-migrations-'))
  await cp(MIGRATION_SETS.tenant, dir, { recursive: true })
  await mkdir(path.join(dir, MIGRATION.version))
  await writeFile(path.join(dir, MIGRATION.version, 'up.sql'), MIGRATION.up)
  await writeFile(path.join(dir, MIGRATION.version, 'down.sql'), MIGRATION.down)
  return dir
}

export async function fleetKill (): Promise<string[]> {
  const world = await startWorld()
  const { pg, sql } = world
  const c = checks()
  const t0 = Date.now()
  const at = (): string => `${((Date.now() - t0) / 1000).toFixed(1)} s`
  const phases: string[] = []
  const migrations = await migrationsFolder()
  try {
    // The fleet, signed up on today's migrations, four at a time.
    const tenants: Array<{ id: string, token: string }> = []
    for (let i = 0; i < TENANTS; i += 4) {
      const batch = await Promise.all(Array.from({ length: Math.min(4, TENANTS - i) }, async (_, j) => {
        const res = await world.app.inject({ method: 'POST', url: '/api/auth/register', payload: { email: `fleet${i + j}@example.org`, password: 'correct horse battery staple', firstName: 'A', lastName: 'B', churchName: `Fleet ${i + j}` } })
        if (res.statusCode !== 201) throw new Error(`sign-up: ${res.statusCode} ${res.body}`)
        const body = res.json() as { tenantId: string, accessToken: string }
        return { id: body.tenantId, token: body.accessToken }
      }))
      tenants.push(...batch)
    }
    await world.app.close()
    phases.push(`signed up ${TENANTS} at ${at()}`)
    // The next release: its files carry the new migration, the worker runs fleet jobs, the template is
    // brought up at start-up as a deploy does; the tenants wait for the fleet run.
    const app = await world.appWith({ WORKER_ENABLED: 'true' }, { tenantMigrationsDir: migrations })
    const operator = { authorization: `Bearer ${SECRETS.PLATFORM_ADMIN_TOKEN}` }
    const started = await app.inject({ method: 'POST', url: '/api/platform/migrations', headers: operator, payload: { direction: 'up', canary: 2, concurrency: 2 } })
    c.equal(started.statusCode, 202, 'fleet run queued')
    const runId = (started.json() as { id: string }).id
    const migratedNow = async (): Promise<number> => {
      let n = 0
      for (const t of tenants) {
        const rows = await sql<{ n: number }>(`tenant_${t.id}`, 'SELECT count(*)::int AS n FROM migrator.applied WHERE version = $1', [MIGRATION.version])
        n += rows[0]?.n ?? 0
      }
      return n
    }
    await until(async () => await migratedNow() >= Math.ceil(TENANTS / 4), 'a quarter of the fleet migrated', 120_000)
    phases.push(`killed at ${at()} (${await migratedNow()} migrated)`)
    await pg.kill()
    let sawOutage = false
    for (let i = 0; i < 10 && !sawOutage; i++) { sawOutage = (await app.inject({ url: '/ready' })).statusCode === 503; await sleep(200) }
    c.ok(sawOutage, '/ready reports 503 while PostgreSQL is down')
    await sleep(2000)
    await pg.restart()
    await until(async () => (await app.inject({ url: '/ready' })).statusCode === 200, '/ready after the restart')

    // What the operator sees: the same run, finished, without anyone restarting or rerunning anything.
    let status = ''
    await until(async () => {
      const res = await app.inject({ url: `/api/platform/migrations/${runId}`, headers: operator })
      status = (res.json() as { status: string }).status
      return !['QUEUED', 'RUNNING'].includes(status)
    }, 'the fleet run to end', 120_000).catch(() => {})
    phases.push(`run ended at ${at()}`)
    c.equal(status, 'SUCCEEDED', 'the fleet run carried on after the outage and succeeded')
    const active = await sql<{ id: string, status: string }>('registry', 'SELECT id, status::text FROM "FleetRun" WHERE "activeSlot" = 1')
    c.equal(active.length, 0, `runs left active (${active.map((r) => r.status).join(',')})`)

    let notOnce = 0
    let probe = 0
    for (const t of tenants) {
      const db = `tenant_${t.id}`
      const applied = await sql<{ n: number }>(db, 'SELECT count(*)::int AS n FROM migrator.applied WHERE version = $1', [MIGRATION.version])
      if (applied[0]?.n !== 1) notOnce++
      const rows = await sql<{ n: number }>(db, 'SELECT count(*)::int AS n FROM "FleetProbe"').catch(() => [{ n: 0 }])
      if (rows[0]?.n !== 1) probe++
    }
    c.equal(notOnce, 0, 'tenants whose own ledger does not show the migration exactly once')
    c.equal(probe, 0, 'tenants where the migration file did not run exactly once')
    // The registry's ledger: one row per tenant that took the tenant from the old version to the new.
    const ledger = await sql<{ tenantId: string, n: number }>('registry',
      'SELECT "tenantId", count(*)::int AS n FROM "TenantMigration" WHERE status = \'APPLIED\' AND version = $1 AND "fromVersion" <> version GROUP BY 1', [MIGRATION.version])
    const perTenant = new Map(ledger.map((r) => [r.tenantId, r.n]))
    c.equal(tenants.filter((t) => perTenant.get(t.id) !== 1).length, 0, 'tenants not recorded in the registry ledger as migrated exactly once')
    const versions = await sql<{ n: number }>('registry', 'SELECT count(*)::int AS n FROM "Tenant" WHERE "schemaVersion" = $1', [MIGRATION.version])
    c.equal(versions[0]?.n, TENANTS, 'tenants whose registry schemaVersion is the new one')
    const verify = await app.fleet.verify()
    c.equal(verify.checked, TENANTS, 'tenants verified')
    c.equal(verify.drifted.length, 0, `drift found by verify (${JSON.stringify(verify.drifted[0] ?? null)})`)
    // And the tenants are served: every one reads its members through the pool, on the new schema.
    let unserved = 0
    for (const t of tenants) {
      const res = await app.inject({ url: '/api/members', headers: { authorization: `Bearer ${t.token}` } })
      if (res.statusCode !== 200) unserved++
    }
    c.equal(unserved, 0, 'tenants whose members could not be read after the run')
    process.stdout.write(`     ${phases.join(', ')}\n`)
    return c.failures
  } finally {
    await world.close()
    await rm(migrations, { recursive: true, force: true })
  }
}
