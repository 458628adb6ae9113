// Finishes what crashed processes left behind: abandoned provisioning requests are rolled back, and
// databases, roles or tenant rows that no live request accounts for are removed.
import type { FastifyBaseLogger } from 'fastify'
import type { RegistryClient } from '../registry/registry-client.js'
import type { ServerDirectory, ServerRow } from '../registry/servers.js'
import { dropTenantDatabaseOn } from './byod/byod-database.js'
import { dropTenantDatabase, listTenantObjects } from './tenant-database.js'

export interface ReconcileReport {
  rolledBack: string[]
  orphanDatabasesDropped: string[]
  orphanRolesDropped: string[]
  staleTenantsRemoved: string[]
}

const TERMINAL = ['ACTIVE', 'ROLLED_BACK', 'FAILED'] as const

/** What the reconciler needs from sign-up (src/onboarding/): its undo steps, passed in so tenancy imports no flow above it. */
export interface ProvisioningUndo {
  rollback: (requestId: string, reason: string) => Promise<void>
  removeTenant: (tenant: { tenantId: string, serverId: string | null, churchId: string | null }) => Promise<void>
}

export function createReconciler (deps: { registry: RegistryClient, servers: ServerDirectory, provisioning: ProvisioningUndo, installationId: string, log: FastifyBaseLogger }) {
  const { registry, servers, provisioning, installationId, log } = deps

  async function run (now = new Date()): Promise<ReconcileReport> {
    const report: ReconcileReport = { rolledBack: [], orphanDatabasesDropped: [], orphanRolesDropped: [], staleTenantsRemoved: [] }

    const abandoned = await registry.provisioningRequest.findMany({
      where: { state: { notIn: [...TERMINAL] }, OR: [{ lockedUntil: null }, { lockedUntil: { lt: now } }] }
    })
    for (const request of abandoned) {
      await provisioning.rollback(request.id, 'abandoned: finished by the reconciler')
      report.rolledBack.push(request.tenantId)
    }

    // What each server holds is listed before the registry is read: a sign-up records its request
    // before it creates anything, so whatever is listed is accounted for by the reads that follow.
    // (Read the other way round, a sign-up starting in between would look like an orphan.)
    const listed: Array<{ server: ServerRow, adminUrl: string, objects: { databases: string[], roles: string[] } }> = []
    for (const server of await servers.list()) {
      if (server.status === 'DISABLED') continue
      const adminUrl = servers.adminUrl(server)
      listed.push({ server, adminUrl, objects: await listTenantObjects(adminUrl, installationId) })
    }

    // Tenants that are neither active nor owned by a live request point at nothing useful.
    const live = await registry.provisioningRequest.findMany({ where: { state: { notIn: [...TERMINAL] } }, select: { tenantId: true } })
    const inFlight = new Set(live.map((r) => r.tenantId))
    const stale = await registry.tenant.findMany({ where: { status: { in: ['PROVISIONING', 'FAILED'] } }, select: { id: true, churchId: true, serverId: true } })
    for (const tenant of stale) {
      if (inFlight.has(tenant.id)) continue
      await provisioning.removeTenant({ tenantId: tenant.id, serverId: tenant.serverId, churchId: tenant.churchId })
      report.staleTenantsRemoved.push(tenant.id)
    }

    // A tenant's objects are its own business while it exists: its role and first database are named
    // tenant_<id>, and after a restore or a move it may live in another database (databaseName) while
    // it keeps the old one for a grace period, dropped by the restore or move sweep.
    const tenants = await registry.tenant.findMany({ select: { id: true, databaseName: true } })
    const known = new Set(tenants.flatMap((t) => [`tenant_${t.id}`, t.databaseName]))
    for (const { server, adminUrl, objects } of listed) {
      const withDatabase = new Set(objects.databases)
      for (const name of objects.databases) {
        const tenantId = name.slice('tenant_'.length)
        if (known.has(name) || inFlight.has(tenantId)) continue
        await dropTenantDatabaseOn(server, adminUrl, tenantId)
        report.orphanDatabasesDropped.push(name)
      }
      for (const name of objects.roles) {
        if (withDatabase.has(name) || known.has(name) || inFlight.has(name.slice('tenant_'.length))) continue
        await dropTenantDatabase(adminUrl, name.slice('tenant_'.length))
        report.orphanRolesDropped.push(name)
      }
    }
    if (Object.values(report).some((list: string[]) => list.length > 0)) log.warn({ report }, 'reconciler repaired provisioning leftovers')
    return report
  }

  return { run }
}

export type Reconciler = ReturnType<typeof createReconciler>
