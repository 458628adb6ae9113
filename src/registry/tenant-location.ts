// Writes to where a tenant's database lives: the write freeze of a move and the switch to the new
// server, which moves the tenant, both servers' counts, the move record and the audit row in one
// registry transaction and tells every process to drop its cached client (tenant_moved).
import type { Prisma } from '../generated/registry/client.js'
import type { AuditEntry, AuditLog } from './audit-log.js'
import type { RegistryClient } from './registry-client.js'
import type { TenantStore } from './tenants.js'

export interface NewLocation {
  serverId: string
  databaseName: string
  databaseHost: string
  databasePort: number
  databaseUser: string
  databasePasswordEncrypted: string
  encryptionKeyId: string
}

// Tenant rows are written through the tenants module (the only writer), inside its transactions.
export function createTenantLocation (deps: { registry: RegistryClient, tenants: Pick<TenantStore, 'transaction'>, audit: Pick<AuditLog, 'record'> }) {
  const { registry, tenants, audit } = deps

  /** Announced by the tenant_changed trigger: every process refuses the tenant's writes from now on. */
  async function freezeWrites (tenantId: string, at = new Date()): Promise<void> {
    await tenants.transaction(async (w) => { await w.setWritesFrozen(tenantId, at) })
  }

  async function unfreezeWrites (tenantId: string): Promise<void> {
    await tenants.transaction(async (w) => { await w.setWritesFrozen(tenantId, null) })
  }

  /**
   * The point of no return of a move. `moveUpdate` records the move's new state in the same
   * transaction, so a crash leaves either the old location and an unfinished move, or both switched.
   */
  async function switchTo (tenantId: string, fromServerId: string, to: NewLocation, moveUpdate: (tx: Prisma.TransactionClient) => Promise<unknown>, entry: AuditEntry): Promise<void> {
    await tenants.transaction(async (w, tx) => {
      if (!await w.moveTo(tenantId, fromServerId, to)) throw new Error(`tenant ${tenantId} is no longer on server ${fromServerId}`)
      await moveUpdate(tx)
      await audit.record(entry, tx)
      await tx.$executeRaw`SELECT pg_notify('tenant_moved', ${tenantId})`
    })
  }

  /** Key rotation: the same password sealed under the current key. */
  async function resealTenant (tenantId: string, sealed: string, expected: string, keyId: string): Promise<boolean> {
    return await tenants.transaction(async (w) => await w.resealPassword(tenantId, sealed, expected, keyId))
  }

  async function resealServer (serverId: string, sealed: string, expected: string, keyId: string): Promise<boolean> {
    const updated = await registry.databaseServer.updateMany({ where: { id: serverId, adminPasswordEncrypted: expected }, data: { adminPasswordEncrypted: sealed, encryptionKeyId: keyId } })
    return updated.count === 1
  }

  return { freezeWrites, unfreezeWrites, switchTo, resealTenant, resealServer }
}

export type TenantLocation = ReturnType<typeof createTenantLocation>
