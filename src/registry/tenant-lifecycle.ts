// The tenant lifecycle's registry writes: ACTIVE -> DELETION_SCHEDULED (cancellable) -> DELETED, and
// the removal of the tenant's registry rows at the end of a hard delete. Each Tenant update is
// announced on the change feed, so every process stops serving the old state at once.
import type { RegistryClient } from './registry-client.js'
import type { Prisma } from '../generated/registry/client.js'
import { tenantWritesIn } from './tenants.js'

/** False when the tenant was not ACTIVE (already scheduled, suspended, gone). */
export async function scheduleTenantDeletion (registry: Pick<RegistryClient, '$transaction'>, tenantId: string, at: Date): Promise<boolean> {
  return await registry.$transaction(async (tx) => await tenantWritesIn(tx).scheduleDeletion(tenantId, at))
}

/** False when no deletion was scheduled. */
export async function cancelTenantDeletion (registry: Pick<RegistryClient, '$transaction'>, tenantId: string): Promise<boolean> {
  return await registry.$transaction(async (tx) => await tenantWritesIn(tx).cancelDeletion(tenantId))
}

/** The first step of a hard delete: nothing serves or sends for the tenant from here on. */
export async function markTenantDeleted (tx: Prisma.TransactionClient, tenantId: string): Promise<void> {
  await tenantWritesIn(tx).markDeleted(tenantId)
}

export interface RemovedRows { phoneNumbers: number, emailIndexRows: number, provisioningRequests: number, loginFailures: number, auditEntries: number, invitations: number, passwordResets: number, tenant: number, church: number }

/**
 * Every registry row about the tenant, in one transaction: phone number routes (released), email
 * index, provisioning requests, failed sign-ins and reset requests of its admins' emails, its audit entries, its
 * invitations and password reset tokens, the tenant (its migration rows cascade) and its church.
 * Idempotent: a second run removes nothing.
 */
export async function removeTenantRows (registry: Pick<RegistryClient, '$transaction'>, tenantId: string, plan: { churchId: string | null, emailHashes: string[] }): Promise<RemovedRows> {
  return await registry.$transaction(async (tx) => {
    const phoneNumbers = (await tx.phoneNumberRegistry.deleteMany({ where: { tenantId } })).count
    const emailIndexRows = (await tx.adminEmailIndex.deleteMany({ where: { tenantId } })).count
    const provisioningRequests = (await tx.provisioningRequest.deleteMany({ where: { tenantId } })).count
    // Sign-in and reset attempt counters keyed by the admins' email hashes (and rows of the older log).
    const counterKeys = plan.emailHashes.flatMap((h) => [`login:email:${h}`, `reset:email:${h}`])
    const loginFailures = (await tx.rateLimitCounter.deleteMany({ where: { key: { in: counterKeys } } })).count +
      (await tx.loginFailure.deleteMany({ where: { key: { in: plan.emailHashes.flatMap((h) => [`email:${h}`, `reset-email:${h}`]) } } })).count
    const auditEntries = (await tx.auditLog.deleteMany({ where: { tenantId } })).count
    // Invitations would cascade with the tenant, but are counted; reset tokens have no foreign key.
    const invitations = (await tx.invitation.deleteMany({ where: { tenantId } })).count
    const passwordResets = (await tx.passwordResetToken.deleteMany({ where: { tenantId } })).count
    const row = await tx.tenant.findUnique({ where: { id: tenantId }, select: { serverId: true } })
    const tenant = row !== null && await tenantWritesIn(tx).remove(tenantId, row.serverId) ? 1 : 0
    const church = plan.churchId === null ? 0 : (await tx.church.deleteMany({ where: { id: plan.churchId } })).count
    return { phoneNumbers, emailIndexRows, provisioningRequests, loginFailures, auditEntries, invitations, passwordResets, tenant, church }
  })
}
