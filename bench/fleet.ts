// Fleet migration benchmark: 1,000 tenant databases (clones of a template whose Member table has
// rows), then a migration adding a column and an index to that table (a bench-only migration in a
// temporary copy of the migrations folder). Times the fleet run with its registry bookkeeping, a run
// with nothing to do, verify and rollback over all 1,000, and the baseline: one process per tenant,
// one after another, measured on a sample and extrapolated linearly (each tenant costs the same: its
// own process start, file load, connection and DDL; nothing is shared between them).
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { cp, mkdir, mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../src/app.js'
import { MIGRATION_SETS } from '../src/db/migrator.js'
import { connect, withClient, withDatabase } from '../src/db/pg-admin.js'
import { newTenantId } from '../src/onboarding/sign-up.js'
import { createTenantDatabase, generateDatabasePassword } from '../src/tenancy/tenant-database.js'
import type { FleetReport } from '../src/tenancy/fleet/run.js'
import { TEMPLATE_DATABASE } from '../src/tenancy/template.js'
import { benchConfig } from './lib/app.js'
import { cpuMeter, postmasterPid } from './lib/cpu.js'
import { startBenchPostgres } from './lib/pg.js'
import { log, mapLimit, printTable, verdict } from './lib/stats.js'

// FLEET_BENCH_TENANTS: a smaller fleet for a quick look; the goals are stated for 1,000.
const TENANTS = Number(process.env.FLEET_BENCH_TENANTS ?? 1000)
const BASELINE_SAMPLE = 20
const MEMBERS_PER_TENANT = 200
const ROOT = path.resolve(import.meta.dirname, '..')
// The newest real tenant migration: where the template and every clone start.
const RELEASED = readdirSync(MIGRATION_SETS.tenant).filter((name) => /^\d{4}_/.test(name)).sort().at(-1) ?? ''
const BENCH_MIGRATION = {
  version: '9001_bench_member_nickname',
  up: 'ALTER TABLE "Member" ADD COLUMN "nickname" TEXT;\nCREATE INDEX "Member_nickname_idx" ON "Member"("nickname");\n',
  down: 'DROP INDEX "Member_nickname_idx";\nALTER TABLE "Member" DROP COLUMN "nickname";\n'
}

async function benchMigrations (): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-fleet-migrations-'))
  await cp(MIGRATION_SETS.tenant, dir, { recursive: true })
  await mkdir(path.join(dir, BENCH_MIGRATION.version))
  await writeFile(path.join(dir, BENCH_MIGRATION.version, 'up.sql'), BENCH_MIGRATION.up)
  await writeFile(path.join(dir, BENCH_MIGRATION.version, 'down.sql'), BENCH_MIGRATION.down)
  return dir
}

/** Members in the template, so that every clone has rows in the table the migration changes. */
async function seedTemplate (serverUrl: string): Promise<void> {
  await withClient(withDatabase(serverUrl, TEMPLATE_DATABASE), async (c) => {
    await c.query(`INSERT INTO "Member" (id, "firstName", "lastName", phone, "updatedAt")
      SELECT 'm' || i, 'Member', 'No ' || i, '+1312555' || lpad(i::text, 4, '0'), now() FROM generate_series(1, ${MEMBERS_PER_TENANT}) AS i`)
    await c.query('VACUUM (FULL, FREEZE)')
  })
}

/** Clones plus their registry rows (bulk: the benchmark is about migrations, not sign-up). */
async function createFleet (app: FastifyInstance, serverUrl: string): Promise<string[]> {
  const server = (await app.servers.list())[0]
  if (server === undefined) throw new Error('no server')
  const ids = Array.from({ length: TENANTS }, () => newTenantId())
  let done = 0
  await mapLimit(ids.length, 4, async (i) => {
    const id = ids[i] as string
    await createTenantDatabase(serverUrl, id, generateDatabasePassword(), app.installationId)
    if (++done % 100 === 0) log(`cloned ${done}/${TENANTS}`)
  })
  const password = app.secretBox.encrypt(generateDatabasePassword())
  await app.registry.church.createMany({ data: ids.map((id) => ({ id, name: `Bench ${id}`, email: `${id}@example.org` })) })
  await app.registry.tenant.createMany({
    data: ids.map((id) => ({
      id,
      churchId: id,
      name: `Bench ${id}`,
      email: `${id}@example.org`,
      serverId: server.id,
      databaseName: `tenant_${id}`,
      databaseHost: server.host,
      databasePort: server.port,
      databaseUser: `tenant_${id}`,
      databasePasswordEncrypted: password,
      encryptionKeyId: app.secretBox.keyId,
      status: 'ACTIVE' as const,
      schemaVersion: RELEASED
    }))
  })
  return ids
}

async function processPerTenant (serverUrl: string, dir: string, databases: string[]): Promise<number> {
  const started = performance.now()
  for (const db of databases) {
    await new Promise<void>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/lib/migrate-one.ts'), withDatabase(serverUrl, db), dir], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] })
      let stderr = ''
      child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
      child.on('error', reject)
      child.on('exit', (code) => { code === 0 ? resolve() : reject(new Error(`migrate-one exited ${code}: ${stderr.slice(-400)}`)) })
    })
  }
  return (performance.now() - started) / databases.length
}

/**
 * Writes out what the previous operation left dirty before the next one is timed: a fleet run dirties
 * catalog pages in 1,000 databases, and the checkpoint that flushes them (thousands of fsyncs) would
 * otherwise fall on whichever operation comes next. Untimed; the run that dirtied them is charged for
 * its WAL flushes at commit, which is what makes it durable.
 */
async function checkpoint (serverUrl: string): Promise<void> {
  await withClient(serverUrl, async (c) => { await c.query('CHECKPOINT') })
}

/**
 * What any per-tenant operation pays at least: a backend is bound to one database, so touching every
 * tenant starts one backend in each (fork, authentication, relation cache init file). Measured with
 * the same admin connections as verify, at the fleet run's concurrency, to set each figure against
 * this machine's cost of a backend.
 */
async function backendFloor (serverUrl: string, ids: string[], concurrency: number): Promise<void> {
  await mapLimit(ids.length, concurrency, async (i) => {
    await withClient(withDatabase(serverUrl, `tenant_${ids[i] as string}`), async (c) => { await c.query('SELECT 1') })
  })
}

interface Watched<T> { result: T, peak: number, ms: number, nodeMs: number, serverMs: number }

/** Samples how many sessions PostgreSQL has in tenant databases while `fn` runs, and the CPU both sides spent. */
async function watchPeak<T> (serverUrl: string, serverPid: number | undefined, fn: () => Promise<T>): Promise<Watched<T>> {
  const watcher = await connect(serverUrl)
  let peak = 0
  const state = { running: true }
  const watch = (async () => {
    while (state.running) {
      const { rows } = await watcher.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname LIKE 'tenant\\_%'")
      peak = Math.max(peak, rows[0]?.n ?? 0)
      await new Promise((resolve) => setTimeout(resolve, 10))
    }
  })()
  const started = performance.now()
  const cpu = cpuMeter(serverPid)
  try {
    const result = await fn()
    const ms = performance.now() - started
    // Includes the watcher's own sampling (one short query every 10 ms), a few percent of one core.
    return { result, peak, ms, ...cpu.stop() }
  } finally {
    state.running = false
    await watch
    await watcher.end()
  }
}

export async function run (): Promise<void> {
  const pg = await startBenchPostgres({ maxConnections: 300 })
  try {
    const dir = await benchMigrations()
    const config = await benchConfig(pg.url)
    // Sign-up path at the real schema: the template starts at the newest released version.
    const setup = await buildApp(config, { logger: false })
    await seedTemplate(pg.url)
    log(`creating ${TENANTS} tenant databases (+${BASELINE_SAMPLE} for the baseline)`)
    const fleetIds = await createFleet(setup, pg.url)
    const sampleIds = Array.from({ length: BASELINE_SAMPLE }, () => newTenantId())
    // Marked as another installation's: the reconciler of the apps below must not drop them as orphans.
    for (const id of sampleIds) await createTenantDatabase(pg.url, id, generateDatabasePassword(), 'benchbaseline')
    await setup.close()

    log(`baseline: a process per tenant over ${BASELINE_SAMPLE} tenants, one after another`)
    const perProcess = await processPerTenant(pg.url, dir, sampleIds.map((id) => `tenant_${id}`))

    const app = await buildApp(config, { logger: false, tenantMigrationsDir: dir, migrateTemplates: false })
    try {
      const budget = (await app.servers.list())[0]?.connectionBudget ?? 0
      const serverPid = await postmasterPid(pg.url)
      log('fleet run')
      await checkpoint(pg.url)
      const phases: Record<string, number> = {}
      const started = performance.now()
      const mark = (report: FleetReport): void => {
        const at = performance.now() - started
        if (report.templates.length > 0) phases.templates ??= at
        if (report.groups.canary.done === report.groups.canary.total) phases.canary ??= at
      }
      const up = await watchPeak(pg.url, serverPid, async () => await app.fleet.runHere({ direction: 'up' }, { onProgress: mark }))
      log(`fleet run phases: templates done at ${((phases.templates ?? 0) / 1000).toFixed(2)} s, canaries at ${((phases.canary ?? 0) / 1000).toFixed(2)} s, all at ${(up.ms / 1000).toFixed(2)} s`)
      if (up.result.status !== 'SUCCEEDED' || up.result.failures.length > 0) throw new Error(`fleet run: ${up.result.status} ${up.result.reason ?? ''} ${up.result.failures[0]?.error ?? ''}`)
      const migrated = up.result.groups.canary.migrated + up.result.groups.rest.migrated
      if (migrated !== TENANTS) throw new Error(`fleet run migrated ${migrated} of ${TENANTS}`)
      const registryAt = await app.registry.tenant.count({ where: { schemaVersion: BENCH_MIGRATION.version } })
      log('no-op run')
      await checkpoint(pg.url)
      const noop = await watchPeak(pg.url, serverPid, async () => await app.fleet.runHere({ direction: 'up' }))
      log('verify')
      await checkpoint(pg.url)
      const verify = await watchPeak(pg.url, serverPid, async () => await app.fleet.verify())
      if (verify.result.drifted.length > 0) throw new Error(`verify found drift: ${JSON.stringify(verify.result.drifted[0])}`)
      log('rollback')
      await checkpoint(pg.url)
      const down = await watchPeak(pg.url, serverPid, async () => await app.fleet.runHere({ direction: 'down' }))
      if (down.result.status !== 'SUCCEEDED') throw new Error(`rollback: ${down.result.status} ${down.result.reason ?? ''}`)
      log('floor: a new backend in each tenant database')
      await checkpoint(pg.url)
      const floor = await watchPeak(pg.url, serverPid, async () => await backendFloor(pg.url, fleetIds, up.result.concurrency))
      const extrapolated = perProcess * TENANTS
      const s = (ms: number): string => `${(ms / 1000).toFixed(2)} s`
      const x = (ms: number): string => `${(ms / floor.ms).toFixed(2)}x`
      printTable(`Fleet migration over ${TENANTS} tenant databases (${MEMBERS_PER_TENANT} members each; durable embedded PostgreSQL, one server, budget ${budget} connections)`,
        ['operation', 'wall', 'x floor', 'goal', 'verdict', 'tenants touched', 'peak PG sessions (tenant dbs)', 'peak slots held by the run', 'concurrency'], [
          ['fleet run: column + index, registry ledger', s(up.ms), x(up.ms), '<= 15 s', verdict(up.ms <= 15_000), migrated, up.peak, up.result.peakConnections, up.result.concurrency],
          ['no-op run (everything current)', s(noop.ms), x(noop.ms), '<= 3 s', verdict(noop.ms <= 3000), noop.result.groups.canary.total + noop.result.groups.rest.total, noop.peak, noop.result.peakConnections, noop.result.concurrency],
          ['verify (ledger + catalog fingerprint)', s(verify.ms), x(verify.ms), '<= 10 s', verdict(verify.ms <= 10_000), verify.result.checked, verify.peak, '-', '-'],
          ['rollback (down scripts)', s(down.ms), x(down.ms), '<= 15 s', verdict(down.ms <= 15_000), down.result.groups.canary.migrated + down.result.groups.rest.migrated, down.peak, down.result.peakConnections, down.result.concurrency],
          ['floor: connect + SELECT 1 in each tenant database', s(floor.ms), '1x', '', '', TENANTS, floor.peak, '-', up.result.concurrency]
        ])
      // CPU per tenant on each side: what the wall time is made of on 2 cores, and stable on a busy machine.
      const perTenant = (ms: number): string => `${(ms / TENANTS).toFixed(2)} ms`
      printTable('CPU per tenant (this process; PostgreSQL: postmaster and every backend)', ['operation', 'Node CPU', 'PostgreSQL CPU', 'Node CPU total', 'PostgreSQL CPU total'],
        ([['fleet run', up], ['no-op run', noop], ['verify', verify], ['rollback', down]] as Array<[string, Watched<unknown>]>)
          .concat([['floor', floor]]).map(([name, w]) => [name, perTenant(w.nodeMs), perTenant(w.serverMs), s(w.nodeMs), s(w.serverMs)]))
      printTable('Fleet run vs a process per tenant, one after another', ['path', 'per tenant', `${TENANTS} tenants`, 'ratio', 'goal', 'verdict'], [
        [`process per tenant (measured on ${BASELINE_SAMPLE}, x ${TENANTS})`, `${perProcess.toFixed(0)} ms`, s(extrapolated), '1x', '', ''],
        ['fleet run (measured)', `${(up.ms / TENANTS).toFixed(1)} ms`, s(up.ms), `${(extrapolated / up.ms).toFixed(1)}x`, '>= 20x', verdict(extrapolated / up.ms >= 20)]
      ])
      log(`registry rows at ${BENCH_MIGRATION.version} after the run: ${registryAt}; ledger rows: ${await app.registry.tenantMigration.count()}`)
    } finally {
      await app.close()
    }
  } finally {
    await pg.stop()
  }
}
