// The only writer of Tenant rows. Writes run in tenants.transaction(), which also hands the caller the
// transaction for its own tables (a provisioning step, a webhook event, an audit entry) so that both
// commit together; once it commits, every tenant it wrote is dropped from this process's directory
// (other processes hear of it through the registry's change notices). DatabaseServer tenant counts
// move with the rows (servers.ts); reads stay where they are needed.
import type { Prisma, SubscriptionStatus, Tenant } from '../generated/registry/client.js'
import type { RegistryClient } from './registry-client.js'
import { adjustTenantCount } from './servers.js'
import type { TenantDirectory } from './tenant-directory.js'

export type RegistryTx = Prisma.TransactionClient

/** What sign-up records for a new tenant: the Tenant model's own fields, so the two cannot drift apart.
 * slug is the organization's address (src/auth/slugs.ts). */
export type NewTenant = Pick<Tenant, 'id' | 'slug' | 'churchId' | 'name' | 'email' | 'serverId' | 'databaseName' |
'databaseHost' | 'databasePort' | 'databaseUser' | 'databasePasswordEncrypted' | 'encryptionKeyId' | 'schemaVersion' |
'stripeSubscriptionId'> & { trialEndsAt: Date }

/** Where a tenant's database is (a restore or a move switches it). */
export interface DatabasePlacement {
  serverId: string
  databaseName: string
  databaseHost: string
  databasePort: number
  schemaVersion: string
}

export interface SubscriptionUpdate {
  subscriptionStatus: SubscriptionStatus
  subscriptionEventAt: Date
  stripeSubscriptionId?: string | null
  trialEndsAt?: Date | null
}

function tenantWrites (tx: RegistryTx, touched: Set<string>) {
  return {
    /** A tenant still being provisioned (PROVISIONING, trialing), counted on its server. */
    async create (tenant: NewTenant): Promise<void> {
      await tx.tenant.create({ data: { ...tenant, status: 'PROVISIONING', subscriptionStatus: 'TRIALING' } })
      await adjustTenantCount(tx, tenant.serverId, 1)
      touched.add(tenant.id)
    },
    async activate (id: string): Promise<void> {
      await tx.tenant.update({ where: { id }, data: { status: 'ACTIVE', lastAccessedAt: new Date() } })
      touched.add(id)
    },
    /** Removes the row if it is there (idempotent), and its place on `serverId`. */
    async remove (id: string, serverId: string | null): Promise<boolean> {
      const removed = await tx.tenant.deleteMany({ where: { id } })
      if (removed.count > 0 && serverId !== null) await adjustTenantCount(tx, serverId, -1)
      touched.add(id)
      return removed.count > 0
    },
    async setSubscription (id: string, update: SubscriptionUpdate): Promise<void> {
      await tx.tenant.update({ where: { id }, data: update })
      touched.add(id)
    },
    async setSchemaVersion (id: string, schemaVersion: string): Promise<void> {
      await tx.tenant.update({ where: { id }, data: { schemaVersion } })
      touched.add(id)
    },
    /** Tenant.schemaVersion for many tenants in one statement (a fleet run's batch of finished tenants). */
    async setSchemaVersions (versions: Array<{ tenantId: string, version: string }>): Promise<void> {
      await tx.$executeRaw`
        UPDATE "Tenant" AS t SET "schemaVersion" = v.version, "updatedAt" = now()
        FROM unnest(${versions.map((v) => v.tenantId)}::text[], ${versions.map((v) => v.version)}::text[]) AS v(id, version)
        WHERE t.id = v.id AND t."schemaVersion" IS DISTINCT FROM v.version`
      for (const v of versions) touched.add(v.tenantId)
    },
    /** ACTIVE -> DELETION_SCHEDULED; false when the tenant was not ACTIVE (already scheduled, suspended, gone). */
    async scheduleDeletion (id: string, at: Date): Promise<boolean> {
      const { count } = await tx.tenant.updateMany({ where: { id, status: 'ACTIVE' }, data: { status: 'DELETION_SCHEDULED', deletionScheduledAt: at } })
      touched.add(id)
      return count === 1
    },
    /** DELETION_SCHEDULED -> ACTIVE; false when no deletion was scheduled. */
    async cancelDeletion (id: string): Promise<boolean> {
      const { count } = await tx.tenant.updateMany({ where: { id, status: 'DELETION_SCHEDULED' }, data: { status: 'ACTIVE', deletionScheduledAt: null } })
      touched.add(id)
      return count === 1
    },
    /** The first step of a hard delete: nothing serves or sends for the tenant from here on. */
    async markDeleted (id: string): Promise<void> {
      await tx.tenant.updateMany({ where: { id }, data: { status: 'DELETED' } })
      touched.add(id)
    },
    /**
     * Points the tenant at another database if it is still on `fromDatabase` (false otherwise); a switch
     * to another server (a move) changes which server counts the tenant.
     */
    async switchDatabase (id: string, fromDatabase: string, to: DatabasePlacement): Promise<boolean> {
      const current = await tx.tenant.findUnique({ where: { id }, select: { serverId: true } })
      const { count } = await tx.tenant.updateMany({ where: { id, databaseName: fromDatabase }, data: to })
      touched.add(id)
      if (current === null || count !== 1) return false
      if (current.serverId !== to.serverId) {
        await adjustTenantCount(tx, current.serverId, -1)
        await adjustTenantCount(tx, to.serverId, 1)
      }
      return true
    },
    /** A move's write freeze: every process refuses the tenant's writes while it is set (tenancy/moves/). */
    async setWritesFrozen (id: string, at: Date | null): Promise<void> {
      await tx.tenant.updateMany({ where: { id, ...(at === null && { writesFrozenAt: { not: null } }) }, data: { writesFrozenAt: at } })
      touched.add(id)
    },
    /**
     * A move's switch: the tenant's database, role and server, if it is still on `fromServerId` (false
     * otherwise), the freeze lifted and both servers' counts moved, in the caller's transaction.
     */
    async moveTo (id: string, fromServerId: string, to: Pick<Tenant, 'serverId' | 'databaseName' | 'databaseHost' | 'databasePort' | 'databaseUser' | 'databasePasswordEncrypted' | 'encryptionKeyId'>): Promise<boolean> {
      const { count } = await tx.tenant.updateMany({ where: { id, serverId: fromServerId }, data: { ...to, writesFrozenAt: null } })
      touched.add(id)
      if (count !== 1) return false
      await adjustTenantCount(tx, fromServerId, -1)
      await adjustTenantCount(tx, to.serverId, 1)
      return true
    },
    /**
     * A server now reached at another address (the embedded server on another port, a configured
     * server's new host): its tenants' rows follow it. Returns how many changed; rerunning changes none.
     */
    async followServer (serverId: string, host: string, port: number): Promise<number> {
      const stale = await tx.tenant.findMany({ where: { serverId, OR: [{ databaseHost: { not: host } }, { databasePort: { not: port } }] }, select: { id: true } })
      if (stale.length === 0) return 0
      const { count } = await tx.tenant.updateMany({ where: { id: { in: stale.map((t) => t.id) }, serverId }, data: { databaseHost: host, databasePort: port } })
      for (const t of stale) touched.add(t.id)
      return count
    },
    /** Key rotation: the same password sealed under another key, if nobody changed it meanwhile. */
    async resealPassword (id: string, sealed: string, expected: string, keyId: string): Promise<boolean> {
      const { count } = await tx.tenant.updateMany({ where: { id, databasePasswordEncrypted: expected }, data: { databasePasswordEncrypted: sealed, encryptionKeyId: keyId } })
      touched.add(id)
      return count === 1
    },
    /** The number replies and broadcasts are sent from; `onlyIfUnset` keeps a primary that is already chosen. */
    async setPrimaryPhoneNumber (id: string, phoneNumber: string | null, options: { onlyIfUnset?: boolean } = {}): Promise<void> {
      await tx.tenant.updateMany({ where: { id, ...(options.onlyIfUnset === true && { primaryPhoneNumber: null }) }, data: { primaryPhoneNumber: phoneNumber } })
      touched.add(id)
    }
  }
}

export type TenantWrites = ReturnType<typeof tenantWrites>

/**
 * The writes inside a transaction the caller already holds (a hard delete's step, a restore's switch):
 * nothing is invalidated here, the registry's change notices drop the cached records.
 */
export function tenantWritesIn (tx: RegistryTx): TenantWrites {
  return tenantWrites(tx, new Set())
}

export function createTenantStore (deps: { registry: Pick<RegistryClient, '$transaction' | 'tenant'>, directory: Pick<TenantDirectory, 'invalidate'> }) {
  const { registry, directory } = deps

  async function transaction<T> (fn: (tenants: TenantWrites, tx: RegistryTx) => Promise<T>): Promise<T> {
    const touched = new Set<string>()
    try {
      return await registry.$transaction(async (tx) => await fn(tenantWrites(tx, touched), tx))
    } finally {
      // After a rollback too: a read that raced the failed write may have cached what it saw.
      for (const id of touched) directory.invalidate(id)
    }
  }

  return {
    transaction,
    /** Bookkeeping only (nothing cached depends on it), so it announces nothing and invalidates nothing. */
    async touch (id: string): Promise<void> {
      await registry.tenant.update({ where: { id }, data: { lastAccessedAt: new Date() } })
    },
    async setSchemaVersion (id: string, schemaVersion: string, alsoInTx?: (tx: RegistryTx) => Promise<unknown>): Promise<void> {
      await transaction(async (tenants, tx) => {
        await tenants.setSchemaVersion(id, schemaVersion)
        await alsoInTx?.(tx)
      })
    },
    /** Operators' view: a page of tenants in id order with their server's name. */
    async list (query: { status?: Prisma.TenantWhereInput['status'], limit: number, cursor?: string | undefined }) {
      const rows = await registry.tenant.findMany({
        where: query.status === undefined ? {} : { status: query.status },
        include: { server: { select: { name: true } } },
        orderBy: { id: 'asc' },
        take: query.limit + 1,
        ...(query.cursor === undefined ? {} : { cursor: { id: query.cursor }, skip: 1 })
      })
      const page = rows.slice(0, query.limit)
      return { tenants: page, nextCursor: rows.length > query.limit ? page.at(-1)?.id ?? null : null }
    },
    async find (id: string) {
      return await registry.tenant.findUnique({ where: { id }, include: { server: { select: { name: true } } } })
    }
  }
}

export type TenantStore = ReturnType<typeof createTenantStore>
