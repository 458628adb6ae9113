// Recipients in batches: claim a handful atomically (PENDING/DEFERRED -> SENDING, SKIP LOCKED) so
// that no two workers and no replayed job ever send one twice, send them without touching the
// database, then record all outcomes in a few statements. Timestamp columns hold UTC wall time (as
// Prisma writes them), whatever the session's time zone. Per-recipient round trips through the
// tenant pool were what bounded throughput. Transient failures are retried with backoff by a new
// job; permanent ones go to the DeadLetterQueue.
import type PgBoss from 'pg-boss'
import type { TenantPrismaClient } from '../../tenancy/tenant-pool.js'
import { SendError, toSendError, type TelnyxSender } from '../telnyx/sender.js'
import { SEND_QUEUE } from './send-queue.js'

export interface RetryPolicy { maxAttempts: number, baseDelayMs: number }

export interface Claimed { id: string, phone: string, body: string, attempts: number, optedOut: boolean | null }

export type Outcome =
  | { kind: 'sent', id: string, providerMessageId: string }
  | { kind: 'skipped', id: string }
  | { kind: 'retry', id: string, errorCode: string, errorDetail: string, nextAttemptAt: Date }
  | { kind: 'failed', id: string, phone: string, attempts: number, errorCode: string, error: SendError }

/** Claims up to `limit` of `ids` still waiting; rows another worker is claiming right now are skipped. */
export async function claimBatch (db: TenantPrismaClient, ids: string[], limit: number): Promise<Claimed[]> {
  return await db.$queryRaw<Claimed[]>`
    UPDATE "MessageRecipient" r SET status = 'SENDING', attempts = r.attempts + 1, "updatedAt" = now() AT TIME ZONE 'UTC'
    WHERE r.id IN (SELECT id FROM "MessageRecipient" WHERE id = ANY(${ids}::text[]) AND status IN ('PENDING', 'DEFERRED')
                   ORDER BY id LIMIT ${limit}::int FOR UPDATE SKIP LOCKED)
      AND r.status IN ('PENDING', 'DEFERRED')
    RETURNING r.id, r.phone, r.body, r.attempts, (SELECT m."optedOut" FROM "Member" m WHERE m.id = r."memberId") AS "optedOut"`
}

/** The carrier call for one claimed recipient; never writes to the database. */
export async function sendOne (sender: Pick<TelnyxSender, 'send'>, from: string, retry: RetryPolicy, r: Claimed): Promise<Outcome> {
  if (r.optedOut === true) return { kind: 'skipped', id: r.id }
  try {
    const { providerMessageId } = await sender.send({ from, to: r.phone, text: r.body })
    return { kind: 'sent', id: r.id, providerMessageId }
  } catch (raw) {
    const error = toSendError(raw)
    const errorCode = error.providerCode ?? (error.status !== undefined ? `HTTP_${error.status}` : 'NETWORK')
    if (error.kind === 'transient' && r.attempts < retry.maxAttempts) {
      const nextAttemptAt = new Date(Date.now() + retry.baseDelayMs * 2 ** (r.attempts - 1))
      return { kind: 'retry', id: r.id, errorCode, errorDetail: error.message.slice(0, 500), nextAttemptAt }
    }
    return { kind: 'failed', id: r.id, phone: r.phone, attempts: r.attempts, errorCode, error }
  }
}

export interface RecordContext { db: TenantPrismaClient, boss: Pick<PgBoss, 'insert'>, tenantId: string, messageId: string, from: string }

export async function recordOutcomes (ctx: RecordContext, outcomes: Outcome[]): Promise<void> {
  const { db } = ctx
  const sent = outcomes.filter((o) => o.kind === 'sent')
  if (sent.length > 0) {
    // A delivery webhook may already have moved one on; only a still-SENDING row becomes SENT.
    await db.$executeRaw`
      UPDATE "MessageRecipient" r SET "providerMessageId" = s.pid, "sentAt" = COALESCE(r."sentAt", now() AT TIME ZONE 'UTC'), "updatedAt" = now() AT TIME ZONE 'UTC',
        status = CASE WHEN r.status = 'SENDING' THEN 'SENT'::"RecipientStatus" ELSE r.status END,
        "errorCode" = CASE WHEN r.status = 'SENDING' THEN NULL ELSE r."errorCode" END
      FROM unnest(${sent.map((o) => o.id)}::text[], ${sent.map((o) => o.providerMessageId)}::text[]) AS s(id, pid)
      WHERE r.id = s.id`
  }
  const skipped = outcomes.filter((o) => o.kind === 'skipped').map((o) => o.id)
  if (skipped.length > 0) await db.messageRecipient.updateMany({ where: { id: { in: skipped } }, data: { status: 'SKIPPED', errorCode: 'OPTED_OUT' } })
  const retries = outcomes.filter((o) => o.kind === 'retry')
  for (const o of retries) {
    await db.messageRecipient.update({ where: { id: o.id }, data: { status: 'PENDING', errorCode: o.errorCode, errorDetail: o.errorDetail, nextAttemptAt: o.nextAttemptAt } })
  }
  if (retries.length > 0) {
    await ctx.boss.insert(retries.map((o) => ({
      name: SEND_QUEUE, data: { tenantId: ctx.tenantId, messageId: ctx.messageId, recipientIds: [o.id] }, startAfter: o.nextAttemptAt
    })))
  }
  const failed = outcomes.filter((o) => o.kind === 'failed')
  if (failed.length > 0) {
    await db.$transaction([
      db.deadLetterQueue.createMany({
        data: failed.map((o) => ({
          kind: 'sms',
          recipientId: o.id,
          payload: { messageId: ctx.messageId, from: ctx.from, to: o.phone, status: o.error.status ?? null, providerCode: o.error.providerCode ?? null, kind: o.error.kind },
          error: o.error.message.slice(0, 1000),
          attempts: o.attempts
        }))
      }),
      ...failed.map((o) => db.messageRecipient.update({
        where: { id: o.id }, data: { status: 'FAILED', errorCode: o.errorCode, errorDetail: o.error.message.slice(0, 500), finalizedAt: new Date() }
      }))
    ])
  }
}

/** Closes the message once no recipient is waiting or in flight: SENT if any went out (or none failed). */
export async function closeIfDone (db: TenantPrismaClient, messageId: string): Promise<void> {
  await db.$executeRaw`
    UPDATE "Message" SET status = (CASE WHEN EXISTS (SELECT 1 FROM "MessageRecipient" WHERE "messageId" = ${messageId} AND status IN ('SENT', 'DELIVERED', 'UNDELIVERED'))
                                        OR NOT EXISTS (SELECT 1 FROM "MessageRecipient" WHERE "messageId" = ${messageId} AND status = 'FAILED')
                                   THEN 'SENT' ELSE 'FAILED' END)::"MessageStatus",
                         "completedAt" = now(), "updatedAt" = now()
    WHERE id = ${messageId} AND status IN ('QUEUED', 'SCHEDULED', 'SENDING')
      AND NOT EXISTS (SELECT 1 FROM "MessageRecipient" WHERE "messageId" = ${messageId} AND status IN ('PENDING', 'DEFERRED', 'SENDING'))`
}
