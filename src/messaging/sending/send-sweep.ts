// The send sweep, run at worker start and every minute, finishes what a crash interrupted:
// - lost jobs: a broadcast is committed to the tenant database before its jobs reach the registry, so
//   a crash in between leaves recipients waiting with no job. Those that have waited a while and that
//   no live job covers are enqueued again; the atomic claim makes an extra job harmless.
// - unknown outcomes: a crash between the claim and the carrier's answer leaves a recipient SENDING.
//   The carrier may have accepted it, so it is never resent: it becomes FAILED (SEND_STATE_UNKNOWN)
//   with a DeadLetterQueue row for a person to look at.
import type PgBoss from 'pg-boss'
import type { Logger } from 'pino'
import type { RegistryClient } from '../../registry/registry-client.js'
import type { TenantPool, TenantPrismaClient } from '../../tenancy/tenant-pool.js'
import { closeIfDone } from './send-batch.js'
import { enqueueSend, recipientsWithLiveJobs } from './send-queue.js'

export interface SweepOptions {
  registry: Pick<RegistryClient, 'tenant'>
  pool: Pick<TenantPool, 'withTenant'>
  boss: Pick<PgBoss, 'insert' | 'getDb'>
  log: Pick<Logger, 'info' | 'warn'>
  /** How long a waiting recipient goes untouched before its job counts as lost. */
  staleMs?: number
  /** How long a recipient may stay SENDING before its outcome counts as unknown. */
  stuckMs?: number
}

export interface SweepResult { requeued: number, unknown: number }

/** Recipients looked at per tenant and sweep; the rest wait for the next minute. */
const SWEEP_LIMIT = 20_000

export function createSendSweep (opts: SweepOptions) {
  const staleMs = opts.staleMs ?? 2 * 60_000
  const stuckMs = opts.stuckMs ?? 10 * 60_000

  async function requeueLost (db: TenantPrismaClient, tenantId: string): Promise<number> {
    const now = new Date()
    const staleBefore = new Date(now.getTime() - staleMs)
    const waiting = await db.$queryRaw<Array<{ id: string, messageId: string }>>`
      SELECT r.id, r."messageId" FROM "MessageRecipient" r JOIN "Message" m ON m.id = r."messageId"
      WHERE r.status IN ('PENDING', 'DEFERRED') AND r."updatedAt" < ${staleBefore.toISOString()}::timestamp
        AND (r."nextAttemptAt" IS NULL OR r."nextAttemptAt" <= ${now.toISOString()}::timestamp)
        AND m.status IN ('QUEUED', 'SCHEDULED', 'SENDING') AND (m."sendAt" IS NULL OR m."sendAt" <= ${now.toISOString()}::timestamp)
      ORDER BY r."messageId", r.id LIMIT ${SWEEP_LIMIT}::int`
    if (waiting.length === 0) return 0
    const messageIds = [...new Set(waiting.map((r) => r.messageId))]
    const covered = await recipientsWithLiveJobs(opts.boss, tenantId, messageIds)
    const lost = waiting.filter((r) => !covered.has(r.id))
    if (lost.length === 0) return 0
    for (const messageId of messageIds) {
      const ids = lost.filter((r) => r.messageId === messageId).map((r) => r.id)
      if (ids.length > 0) await enqueueSend(opts.boss, { tenantId, messageId }, ids)
    }
    // Touched, so that a sweep before the new jobs run does not enqueue them yet again.
    await db.messageRecipient.updateMany({ where: { id: { in: lost.map((r) => r.id) }, status: { in: ['PENDING', 'DEFERRED'] } }, data: { updatedAt: new Date() } })
    return lost.length
  }

  async function failUnknown (db: TenantPrismaClient): Promise<number> {
    const stuckBefore = new Date(Date.now() - stuckMs)
    const failed = await db.$queryRaw<Array<{ messageId: string }>>`
      WITH stuck AS (
        UPDATE "MessageRecipient" SET status = 'FAILED', "errorCode" = 'SEND_STATE_UNKNOWN', "finalizedAt" = now() AT TIME ZONE 'UTC', "updatedAt" = now() AT TIME ZONE 'UTC',
          "errorDetail" = 'interrupted between claim and carrier answer; not resent because the carrier may have accepted it'
        WHERE status = 'SENDING' AND "updatedAt" < ${stuckBefore.toISOString()}::timestamp
        RETURNING id, "messageId", phone, attempts
      ), dead AS (
        INSERT INTO "DeadLetterQueue" (id, kind, "recipientId", payload, error, attempts)
        SELECT gen_random_uuid()::text, 'sms', id, jsonb_build_object('messageId', "messageId", 'to', phone, 'kind', 'unknown'),
               'SEND_STATE_UNKNOWN: the worker stopped after claiming this recipient; the carrier may or may not have it', attempts
        FROM stuck
      )
      SELECT "messageId" FROM stuck`
    for (const messageId of new Set(failed.map((r) => r.messageId))) await closeIfDone(db, messageId)
    return failed.length
  }

  async function sweepTenant (tenantId: string): Promise<SweepResult> {
    return await opts.pool.withTenant(tenantId, async (db) => {
      const unknown = await failUnknown(db)
      const requeued = await requeueLost(db, tenantId)
      return { requeued, unknown }
    })
  }

  return {
    sweepTenant,
    /** Sweeps every active tenant; one tenant's failure does not stop the others. */
    async sweep (): Promise<SweepResult> {
      const total: SweepResult = { requeued: 0, unknown: 0 }
      const tenants = await opts.registry.tenant.findMany({ where: { status: 'ACTIVE' }, select: { id: true } })
      for (const { id } of tenants) {
        try {
          const r = await sweepTenant(id)
          total.requeued += r.requeued
          total.unknown += r.unknown
          if (r.requeued + r.unknown > 0) opts.log.warn({ tenantId: id, ...r }, 'send sweep recovered recipients')
        } catch (error) {
          opts.log.warn({ err: error, tenantId: id }, 'send sweep failed for a tenant')
        }
      }
      return total
    }
  }
}

export type SendSweep = ReturnType<typeof createSendSweep>
