// Deletion with a grace period: the owner asks (password entered again), the organization becomes
// DELETION_SCHEDULED at once (nothing more is sent, queued broadcasts included, while admins can still
// sign in, read and export) and is hard-deleted when the period ends, unless the owner cancels first.
// The AccountDeletionRequest row in the tenant database keeps the owner's request; the registry's
// Tenant row is what every process acts on.
import type { FastifyBaseLogger } from 'fastify'
import { verifyPassword } from '../auth/password.js'
import { ERRORS } from '../errors.js'
import type { RegistryClient } from '../registry/registry-client.js'
import { cancelTenantDeletion, scheduleTenantDeletion } from '../registry/tenant-lifecycle.js'
import type { TenantDirectory } from '../registry/tenant-directory.js'
import type { TenantPrismaClient } from '../tenancy/tenant-pool.js'
import type { HardDelete } from './hard-delete.js'
import { requireOwner } from './owner-only.js'

export const DELETION_SWEEP_QUEUE = 'tenant-deletion-sweep'

export interface DeletionState { status: string, deletionScheduledFor: string | null }

export interface DeletionDeps {
  registry: Pick<RegistryClient, 'tenant' | '$transaction'>
  directory: Pick<TenantDirectory, 'invalidate'>
  hardDelete: Pick<HardDelete, 'hardDelete' | 'unfinished'>
  graceDays: number
  log: Pick<FastifyBaseLogger, 'info' | 'error'>
}

export function createDeletionService (deps: DeletionDeps) {
  const { registry, directory, hardDelete, log } = deps

  async function schedule (db: TenantPrismaClient, tenantId: string, adminId: string, input: { password: string, reason?: string }, now = new Date()): Promise<DeletionState> {
    const owner = await requireOwner(db, adminId)
    if (!await verifyPassword(owner.passwordHash, input.password)) throw new ERRORS.WrongPassword()
    const current = await registry.tenant.findUnique({ where: { id: tenantId }, select: { status: true } })
    if (current?.status === 'DELETION_SCHEDULED') throw new ERRORS.DeletionAlreadyScheduled()
    const scheduledFor = new Date(now.getTime() + deps.graceDays * 86_400_000)
    // A request left open by a crash before the registry heard of it is superseded by this one.
    await db.accountDeletionRequest.updateMany({ where: { cancelledAt: null, completedAt: null }, data: { cancelledAt: now } })
    await db.accountDeletionRequest.create({ data: { requestedById: adminId, scheduledFor, reason: input.reason } })
    if (!await scheduleTenantDeletion(registry, tenantId, scheduledFor)) throw new ERRORS.DeletionAlreadyScheduled()
    directory.invalidate(tenantId)
    log.info({ tenantId, scheduledFor }, 'organization deletion scheduled')
    return { status: 'DELETION_SCHEDULED', deletionScheduledFor: scheduledFor.toISOString() }
  }

  async function cancel (db: TenantPrismaClient, tenantId: string, adminId: string, now = new Date()): Promise<DeletionState> {
    await requireOwner(db, adminId)
    if (!await cancelTenantDeletion(registry, tenantId)) throw new ERRORS.DeletionNotScheduled()
    await db.accountDeletionRequest.updateMany({ where: { cancelledAt: null, completedAt: null }, data: { cancelledAt: now } })
    directory.invalidate(tenantId)
    log.info({ tenantId }, 'organization deletion cancelled')
    return { status: 'ACTIVE', deletionScheduledFor: null }
  }

  /** The worker's sweep: organizations whose grace period ended, and deletions a crash interrupted. */
  async function runDue (now = new Date()): Promise<string[]> {
    const due = await registry.tenant.findMany({ where: { status: 'DELETION_SCHEDULED', deletionScheduledAt: { lte: now } }, select: { id: true } })
    const ids = [...new Set([...await hardDelete.unfinished(), ...due.map((t) => t.id)])]
    const deleted: string[] = []
    for (const tenantId of ids) {
      try {
        await hardDelete.hardDelete(tenantId, { requestedBy: 'owner', reason: 'grace period ended' })
        deleted.push(tenantId)
      } catch (error) {
        log.error({ tenantId, err: error }, 'hard delete failed; the next sweep resumes it')
      }
    }
    return deleted
  }

  return { schedule, cancel, runDue }
}

export type DeletionService = ReturnType<typeof createDeletionService>
