// The physical floor of a tenant pool miss and what the pool pays above it, measured in the same run:
// the floor is a new PostgreSQL backend in the tenant's database (plain pg: connect as the tenant's
// role, first query); a miss is the pool opening a client for a tenant it does not hold, with the
// same query through Prisma, in a full pool (so it evicts an idle client first, as in steady state).
import { mkdir, mkdtemp, writeFile, cp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import { buildApp } from '../../src/app.js'
import { MIGRATION_SETS } from '../../src/db/migrator.js'
import { UTC_SESSION_OPTIONS, parseDatabaseUrl, buildDatabaseUrl } from '../../src/db/pg-admin.js'
import { newTenantId } from '../../src/onboarding/sign-up.js'
import { createTenantDatabase, generateDatabasePassword, tenantDatabaseName } from '../../src/tenancy/tenant-database.js'
import { benchConfig, createTenants, type BenchTenant } from './app.js'
import { since } from './stats.js'

const QUERY = 'SELECT id, email FROM "Admin" WHERE id = $1'

// Each sample, floor or miss, starts on a settled process: what the previous one left running in the
// background (the backends it closed exiting, the pool refilling its stock of clients after the
// untimed set-up) is over, so no sample is charged for another's work. Misses in real traffic are
// spread out the same way; back-to-back misses are the 1,000-tenant uniform scenarios' business.
const SETTLE_MS = 40
const settle = async (): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, SETTLE_MS)) }

/** connect as the tenant's role + first query, in ms; the disconnect is not timed. */
export async function floorOnce (url: string, adminId: string): Promise<number> {
  await settle()
  const started = performance.now()
  const client = new pg.Client({ connectionString: url, options: UTC_SESSION_OPTIONS })
  await client.connect()
  await client.query(QUERY, [adminId])
  const ms = since(started)
  await client.end()
  return ms
}

/**
 * One pool miss for `tenant`: it is evicted if cached and a filler tenant is touched (both untimed),
 * so the pool is full again and the timed acquire has to evict an idle client, as misses do once a
 * server's budget is in use.
 */
export async function missOnce (app: FastifyInstance, tenant: BenchTenant, filler: BenchTenant | undefined): Promise<number> {
  await app.pool.evict(tenant.tenantId)
  if (filler !== undefined) await app.pool.withTenant(filler.tenantId, async () => {})
  await settle()
  const before = app.pool.stats().misses
  const started = performance.now()
  await app.pool.withTenant(tenant.tenantId, async (db) => await db.admin.findUnique({ where: { id: tenant.adminId }, select: { id: true, email: true } }))
  const ms = since(started)
  if (app.pool.stats().misses !== before + 1) throw new Error('expected a pool miss')
  return ms
}

/**
 * Clones made without the prewarm: the first backend in each builds the relation cache init file.
 * Returns the first and the second connection's cost (plain pg, as the tenant's role).
 */
export async function unprewarmedClones (app: FastifyInstance, serverUrl: string, count: number): Promise<{ first: number[], second: number[] }> {
  const first: number[] = []
  const second: number[] = []
  const admin = parseDatabaseUrl(serverUrl)
  for (let i = 0; i < count; i++) {
    const id = newTenantId()
    const password = generateDatabasePassword()
    await createTenantDatabase(serverUrl, id, password, app.installationId, undefined, { prewarm: false })
    const name = tenantDatabaseName(id)
    const url = buildDatabaseUrl({ ...admin, user: name, password, database: name, params: '' })
    first.push(await floorOnce(url, 'nobody'))
    second.push(await floorOnce(url, 'nobody'))
  }
  return { first, second }
}

const BENCH_MIGRATION = {
  version: '9001_bench_member_nickname',
  up: 'ALTER TABLE "Member" ADD COLUMN "nickname" TEXT;\nCREATE INDEX "Member_nickname_idx" ON "Member"("nickname");\n',
  down: 'DROP INDEX "Member_nickname_idx";\nALTER TABLE "Member" DROP COLUMN "nickname";\n'
}

/**
 * `count` tenants signed up in a registry of their own, migrated by a fleet run (which evicts them
 * and prewarms each changed database), then each one's first miss and a floor sample beside it.
 * Moves the server's template to the bench migration: run it last.
 */
export async function afterMigration (serverUrl: string, count: number): Promise<{ misses: number[], floors: number[] }> {
  const config = await benchConfig(serverUrl)
  const signUp = await buildApp(config, { logger: false })
  let tenants: BenchTenant[]
  try {
    tenants = await createTenants(signUp, count, 2)
  } finally {
    await signUp.close()
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'bench-routing-migrations-'))
  await cp(MIGRATION_SETS.tenant, dir, { recursive: true })
  await mkdir(path.join(dir, BENCH_MIGRATION.version))
  await writeFile(path.join(dir, BENCH_MIGRATION.version, 'up.sql'), BENCH_MIGRATION.up)
  await writeFile(path.join(dir, BENCH_MIGRATION.version, 'down.sql'), BENCH_MIGRATION.down)
  const app = await buildApp(config, { logger: false, tenantMigrationsDir: dir, migrateTemplates: false })
  try {
    const report = await app.fleet.runHere({ direction: 'up', canary: 1 })
    const migrated = report.groups.canary.migrated + report.groups.rest.migrated
    if (report.status !== 'SUCCEEDED' || migrated !== count) throw new Error(`fleet run ${report.status}: ${migrated} of ${count} migrated`)
    const misses: number[] = []
    const floors: number[] = []
    for (const tenant of tenants) {
      misses.push(await missOnce(app, tenant, undefined))
      floors.push(await floorOnce((await app.directory.connectionInfo(tenant.tenantId)).url, tenant.adminId))
    }
    return { misses, floors }
  } finally {
    await app.close()
  }
}
