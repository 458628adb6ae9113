// The messaging worker: takes send jobs from pg-boss (registry database), routes each to its tenant
// database through the pool, holds back recipients inside quiet hours (DEFERRED, re-enqueued for the
// morning, never dropped), spaces sends per sending number, and closes the message when done. It also
// runs the send sweep (lost jobs, unknown outcomes) and retries early delivery events.
import type PgBoss from 'pg-boss'
import type { Logger } from 'pino'
import { canSend } from '../../billing/subscription-guard.js'
import type { TenantDirectory, TenantRecord } from '../../registry/tenant-directory.js'
import type { TenantPool, TenantPrismaClient } from '../../tenancy/tenant-pool.js'
import type { RegistryClient } from '../../registry/registry-client.js'
import { nextSendableTime, timezoneForPhone, type QuietHours } from './quiet-hours.js'
import { createRateLimiter } from './rate-limiter.js'
import { claimBatch, closeIfDone, recordOutcomes, sendOne, type Outcome, type RetryPolicy } from './send-batch.js'
import { DELIVERY_RETRY_QUEUE, ensureQueues, RECURRING_QUEUE, SEND_QUEUE, SWEEP_QUEUE, type SendJob } from './send-queue.js'
import { createSendSweep } from './send-sweep.js'
import type { DeliveryRetryJob, DeliveryStatus } from './delivery-status.js'
import type { TelnyxSender } from '../telnyx/sender.js'
import { createRecurringScheduler } from '../campaigns/recurring-service.js'
import { isFrozen } from '../../tenancy/moves/write-freeze.js'

export interface MessagingWorkerOptions {
  boss: PgBoss
  pool: Pick<TenantPool, 'withTenant'>
  directory: Pick<TenantDirectory, 'get'>
  sender: TelnyxSender
  log: Pick<Logger, 'info' | 'warn' | 'error'>
  /** 0 = unlimited. */
  ratePerSecondPerNumber: number
  /** Needed to fire recurring messages and to sweep (both list the tenants). */
  registry?: RegistryClient
  /** Works the queue of delivery events that came before their provider message id. */
  deliveryStatus?: Pick<DeliveryStatus, 'retry'>
  quietHours?: QuietHours
  retry?: Partial<RetryPolicy>
  /** Send jobs processed at once by this worker. */
  concurrency?: number
  /** Sends in flight within one job. */
  sendsPerJob?: number
  /** Recipients claimed at once; smaller when rate limited, so that few sit SENDING while they wait. */
  claimBatchSize?: number
  pollingIntervalSeconds?: number
  /** Told the outcome of every send once it is recorded (metrics). */
  onOutcomes?: (outcomes: Outcome[]) => void
  now?: () => Date
}

const PAUSED = 'PAUSED_FOR_MOVE'
const PAUSE_MS = 2000

export function createMessagingWorker (opts: MessagingWorkerOptions) {
  const { boss, pool, directory, sender, log } = opts
  const limiter = createRateLimiter(opts.ratePerSecondPerNumber)
  const retry: RetryPolicy = { maxAttempts: opts.retry?.maxAttempts ?? 5, baseDelayMs: opts.retry?.baseDelayMs ?? 2000 }
  const quiet = opts.quietHours ?? { start: 21, end: 8 }
  const now = opts.now ?? (() => new Date())
  const recurring = opts.registry === undefined ? undefined : createRecurringScheduler({ registry: opts.registry, directory, pool, boss, log, now })
  const workerIds: string[] = []
  const sendsInFlight = opts.sendsPerJob ?? 8
  const rate = opts.ratePerSecondPerNumber
  const claimSize = Math.min(opts.claimBatchSize ?? 25, rate > 0 ? Math.max(1, Math.ceil(rate)) : Infinity)
  const sweeper = opts.registry === undefined ? undefined : createSendSweep({ registry: opts.registry, pool, boss, log })

  async function deferQuiet (db: TenantPrismaClient, job: SendJob, timezone: string): Promise<string[]> {
    const rows = await db.messageRecipient.findMany({ where: { id: { in: job.recipientIds }, status: { in: ['PENDING', 'DEFERRED'] } }, select: { id: true, phone: true } })
    const at = now()
    const later = new Map<number, string[]>()
    const ready: string[] = []
    for (const r of rows) {
      const when = nextSendableTime(at, timezoneForPhone(r.phone, timezone), quiet)
      if (when.getTime() <= at.getTime()) ready.push(r.id)
      else later.set(when.getTime(), [...(later.get(when.getTime()) ?? []), r.id])
    }
    for (const [time, ids] of later) {
      const nextAttemptAt = new Date(time)
      await db.messageRecipient.updateMany({ where: { id: { in: ids }, status: { in: ['PENDING', 'DEFERRED'] } }, data: { status: 'DEFERRED', nextAttemptAt } })
      await boss.send(SEND_QUEUE, { ...job, recipientIds: ids }, { startAfter: nextAttemptAt })
    }
    return ready
  }

  /** Fails what is left of the job (PENDING or DEFERRED) with `errorCode`; nothing more is sent for it. */
  async function stopJob (db: TenantPrismaClient, job: SendJob, errorCode: string): Promise<void> {
    const stopped = await db.messageRecipient.updateMany({ where: { id: { in: job.recipientIds }, status: { in: ['PENDING', 'DEFERRED'] } }, data: { status: 'FAILED', errorCode } })
    if (stopped.count > 0) log.warn({ tenantId: job.tenantId, messageId: job.messageId, recipients: stopped.count, errorCode }, 'broadcast stopped')
    await closeIfDone(db, job.messageId)
  }

  /** Claims, sends and records `ready` a batch at a time until none is left to claim or the tenant may no longer send. */
  async function sendReady (db: TenantPrismaClient, job: SendJob, ready: string[]): Promise<string | null> {
    for (;;) {
      // Asked again before every batch: a rate-limited broadcast can run for hours, and a suspension,
      // a lapsed subscription or a released number meanwhile must stop it or change the sender (the
      // directory hears of changes at once).
      const tenant = await directory.get(job.tenantId)
      if (isFrozen(tenant)) return PAUSED
      const blocked = sendBlocked(tenant, now())
      if (blocked !== null) return blocked
      const from = tenant.primaryPhoneNumber as string
      const record = { db, boss, tenantId: job.tenantId, messageId: job.messageId, from }
      const claimed = await claimBatch(db, ready, claimSize)
      if (claimed.length === 0) return null
      // A few carrier calls in flight per job; the limiter still spaces them per number.
      const queue = [...claimed]
      const outcomes: Outcome[] = []
      const lane = async (): Promise<void> => {
        for (let r = queue.shift(); r !== undefined; r = queue.shift()) {
          if (r.optedOut !== true) await limiter.acquire(from)
          outcomes.push(await sendOne(sender, from, retry, r))
        }
      }
      await Promise.all(Array.from({ length: Math.min(sendsInFlight, queue.length) }, lane))
      await recordOutcomes(record, outcomes)
      opts.onOutcomes?.(outcomes)
    }
  }

  // A move is freezing the tenant's writes: what is left of the job goes again in a moment (only
  // recipients still waiting are claimed then), wherever the tenant lives by then.
  async function pause (job: SendJob): Promise<void> {
    await boss.send(SEND_QUEUE, job, { startAfter: new Date(now().getTime() + PAUSE_MS) })
  }

  async function processSendJob (job: SendJob): Promise<void> {
    const tenant = await directory.get(job.tenantId)
    if (tenant.status === 'DELETED') {
      // Its database is gone or going: there is nothing to send from and nothing to record in.
      log.warn({ tenantId: job.tenantId, messageId: job.messageId }, 'send job for a deleted organization dropped')
      return
    }
    if (isFrozen(tenant)) return await pause(job)
    await pool.withTenant(job.tenantId, async (db) => {
      const blocked = sendBlocked(tenant, now())
      if (blocked !== null) return await stopJob(db, job, blocked)
      const ready = await deferQuiet(db, job, tenant.timezone)
      if (ready.length > 0) {
        await db.message.updateMany({ where: { id: job.messageId, status: { in: ['QUEUED', 'SCHEDULED'] } }, data: { status: 'SENDING' } })
        const stopped = await sendReady(db, job, ready)
        if (stopped === PAUSED) return await pause(job)
        if (stopped !== null) return await stopJob(db, job, stopped)
      }
      await closeIfDone(db, job.messageId)
    })
  }

  return {
    processSendJob,
    /** Fires due recurring messages of every tenant once (what the scheduled tick job does). */
    async tickRecurring (): Promise<number> { return await (recurring?.tick() ?? Promise.resolve(0)) },
    /** Runs the send sweep over every tenant once (what the scheduled sweep job does). */
    async sweep () { return await (sweeper?.sweep() ?? Promise.resolve({ requeued: 0, unknown: 0 })) },
    async start (): Promise<void> {
      await ensureQueues(boss)
      const pollingIntervalSeconds = opts.pollingIntervalSeconds ?? 0.5
      for (let i = 0; i < (opts.concurrency ?? 4); i++) {
        workerIds.push(await boss.work<SendJob>(SEND_QUEUE, { batchSize: 1, pollingIntervalSeconds }, async (jobs) => {
          for (const job of jobs) await processSendJob(job.data)
        }))
      }
      if (recurring !== undefined) {
        await boss.schedule(RECURRING_QUEUE, '* * * * *')
        workerIds.push(await boss.work(RECURRING_QUEUE, { pollingIntervalSeconds: 2 }, async () => {
          const fired = await recurring.tick()
          if (fired > 0) log.info({ fired }, 'recurring messages fired')
        }))
      }
      if (sweeper !== undefined) {
        await boss.schedule(SWEEP_QUEUE, '* * * * *')
        workerIds.push(await boss.work(SWEEP_QUEUE, { pollingIntervalSeconds: 2 }, async () => { await sweeper.sweep() }))
        // Right away too: a worker restarting after a crash is when lost jobs are likeliest.
        await boss.send(SWEEP_QUEUE, {})
      }
      const delivery = opts.deliveryStatus
      if (delivery !== undefined) {
        workerIds.push(await boss.work<DeliveryRetryJob>(DELIVERY_RETRY_QUEUE, { pollingIntervalSeconds: 2 }, async (jobs) => {
          for (const job of jobs) await delivery.retry(job.data)
        }))
      }
      log.info({ concurrency: opts.concurrency ?? 4, ratePerSecondPerNumber: opts.ratePerSecondPerNumber }, 'messaging worker started')
    },
    /** Stops taking jobs; in-flight jobs finish (boss.stop({ graceful }) waits for them). */
    async stop (): Promise<void> {
      for (const id of workerIds.splice(0)) await boss.offWork({ id })
    }
  }
}

export type MessagingWorker = ReturnType<typeof createMessagingWorker>

/**
 * Why a tenant may not send right now, or null: a broadcast queued while it could send is held to the
 * same rules as a new one when its turn comes (suspended organizations and lapsed subscriptions send
 * nothing), and so is each later batch.
 */
export function sendBlocked (tenant: Pick<TenantRecord, 'status' | 'subscriptionStatus' | 'trialEndsAt' | 'primaryPhoneNumber'>, at: Date): string | null {
  if (tenant.status !== 'ACTIVE') return `TENANT_${tenant.status}`
  if (!canSend(tenant, at)) return 'SUBSCRIPTION_INACTIVE'
  if (tenant.primaryPhoneNumber === null) return 'NO_SENDING_NUMBER'
  return null
}
