// Brings every tenant database to the newest tenant migration: the templates first, then the tenants
// with bounded concurrency. Each failure is isolated and recorded; running it again resumes.
import type { FastifyBaseLogger } from 'fastify'
import type { RegistryClient } from '../registry/registry-client.js'
import { connect } from '../db/pg-admin.js'
import { latestVersion, migrateUp, type Migration } from '../db/migrator.js'
import type { ServerDirectory } from '../registry/servers.js'
import type { TenantStore } from '../registry/tenants.js'
import { ensureTemplate, grantTenantGroup } from './template.js'
import type { TenantPool } from './tenant-pool.js'

export interface FleetReport { total: number, migrated: string[], upToDate: number, failed: Array<{ tenantId: string, error: string }> }

export function createFleetMigrator (deps: { registry: RegistryClient, tenants: Pick<TenantStore, 'setSchemaVersion'>, servers: ServerDirectory, pool: TenantPool, migrations: Migration[], log: FastifyBaseLogger }) {
  const { registry, tenants, servers, pool, migrations, log } = deps
  const latest = latestVersion(migrations)

  async function migrateTenant (tenant: { id: string, serverId: string, databaseName: string }): Promise<string[]> {
    const server = await servers.get(tenant.serverId)
    if (server === null) throw new Error(`server ${tenant.serverId} not found`)
    await registry.tenantMigration.upsert({
      where: { tenantId_version: { tenantId: tenant.id, version: latest } },
      create: { tenantId: tenant.id, version: latest, status: 'RUNNING', startedAt: new Date() },
      update: { status: 'RUNNING', startedAt: new Date(), error: null }
    })
    const client = await connect(servers.adminUrl(server, tenant.databaseName))
    let applied: string[]
    try {
      applied = (await migrateUp(client, migrations)).applied
      // Default privileges cover new tables; this also repairs a database whose grants were lost.
      await grantTenantGroup(client)
    } finally {
      await client.end()
    }
    await tenants.setSchemaVersion(tenant.id, latest, async (tx) =>
      await tx.tenantMigration.update({ where: { tenantId_version: { tenantId: tenant.id, version: latest } }, data: { status: 'APPLIED', finishedAt: new Date() } }))
    // Cached clients were built for the old schema's grants; the next request builds a fresh one.
    if (applied.length > 0) await pool.evict(tenant.id)
    return applied
  }

  async function migrateAll (options: { concurrency?: number, onProgress?: (done: number, total: number, report: FleetReport) => void } = {}): Promise<FleetReport> {
    for (const server of await servers.list()) {
      if (server.status !== 'ACTIVE') continue
      const status = await ensureTemplate(servers.adminUrl(server), migrations)
      if (status.applied.length > 0) log.info({ server: server.name, applied: status.applied }, 'template migrated')
    }
    const tenants = await registry.tenant.findMany({
      where: { status: { in: ['ACTIVE', 'SUSPENDED', 'DELETION_SCHEDULED'] } },
      select: { id: true, serverId: true, databaseName: true, schemaVersion: true },
      orderBy: { createdAt: 'asc' }
    })
    const report: FleetReport = { total: tenants.length, migrated: [], upToDate: 0, failed: [] }
    let next = 0
    let done = 0
    const worker = async (): Promise<void> => {
      while (next < tenants.length) {
        const tenant = tenants[next++] as typeof tenants[number]
        try {
          const applied = await migrateTenant(tenant)
          if (applied.length > 0) report.migrated.push(tenant.id)
          else report.upToDate++
        } catch (error) {
          const message = (error as Error).message
          report.failed.push({ tenantId: tenant.id, error: message })
          log.error({ tenantId: tenant.id, err: error }, 'tenant migration failed')
          await registry.tenantMigration.updateMany({ where: { tenantId: tenant.id, version: latest }, data: { status: 'FAILED', error: message.slice(0, 2000), finishedAt: new Date() } })
        }
        options.onProgress?.(++done, tenants.length, report)
      }
    }
    await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 4) }, worker))
    return report
  }

  return { migrateAll, migrateTenant, latest }
}
