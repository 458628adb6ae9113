// One recipient, one attempt: claim it atomically (PENDING/DEFERRED -> SENDING) so that no two
// workers and no replayed job ever send it twice, re-check consent, send, and record the outcome.
// Transient failures are retried with backoff by a new job; permanent ones go to the DeadLetterQueue.
import type PgBoss from 'pg-boss'
import type { TenantPrismaClient } from '../tenancy/tenant-pool.js'
import { SendError, toSendError, type TelnyxSender } from './telnyx-sender.js'
import { SEND_QUEUE } from './send-queue.js'

export interface RetryPolicy { maxAttempts: number, baseDelayMs: number }

interface Claimed { id: string, phone: string, body: string, attempts: number, optedOut: boolean | null }

export async function claimRecipient (db: TenantPrismaClient, id: string): Promise<Claimed | undefined> {
  const rows = await db.$queryRaw<Claimed[]>`
    UPDATE "MessageRecipient" r SET status = 'SENDING', attempts = attempts + 1, "updatedAt" = now()
    WHERE r.id = ${id} AND r.status IN ('PENDING', 'DEFERRED')
    RETURNING r.id, r.phone, r.body, r.attempts, (SELECT m."optedOut" FROM "Member" m WHERE m.id = r."memberId") AS "optedOut"`
  return rows[0]
}

export interface SendContext {
  db: TenantPrismaClient
  boss: PgBoss
  sender: TelnyxSender
  tenantId: string
  messageId: string
  from: string
  retry: RetryPolicy
}

export async function sendClaimed (ctx: SendContext, r: Claimed): Promise<'sent' | 'skipped' | 'retry' | 'failed'> {
  const { db } = ctx
  if (r.optedOut === true) {
    await db.messageRecipient.update({ where: { id: r.id }, data: { status: 'SKIPPED', errorCode: 'OPTED_OUT' } })
    return 'skipped'
  }
  try {
    const { providerMessageId } = await ctx.sender.send({ from: ctx.from, to: r.phone, text: r.body })
    // A delivery webhook may already have moved it on; only a still-SENDING row becomes SENT.
    await db.$executeRaw`
      UPDATE "MessageRecipient" SET "providerMessageId" = ${providerMessageId}, "sentAt" = COALESCE("sentAt", now()), "updatedAt" = now(),
        status = CASE WHEN status = 'SENDING' THEN 'SENT'::"RecipientStatus" ELSE status END,
        "errorCode" = CASE WHEN status = 'SENDING' THEN NULL ELSE "errorCode" END
      WHERE id = ${r.id}`
    return 'sent'
  } catch (raw) {
    const error: SendError = toSendError(raw)
    const errorCode = error.providerCode ?? (error.status !== undefined ? `HTTP_${error.status}` : 'NETWORK')
    if (error.kind === 'transient' && r.attempts < ctx.retry.maxAttempts) {
      const delay = ctx.retry.baseDelayMs * 2 ** (r.attempts - 1)
      const nextAttemptAt = new Date(Date.now() + delay)
      await db.messageRecipient.update({ where: { id: r.id }, data: { status: 'PENDING', errorCode, errorDetail: error.message.slice(0, 500), nextAttemptAt } })
      await ctx.boss.send(SEND_QUEUE, { tenantId: ctx.tenantId, messageId: ctx.messageId, recipientIds: [r.id] }, { startAfter: nextAttemptAt })
      return 'retry'
    }
    await db.$transaction([
      db.deadLetterQueue.create({
        data: {
          kind: 'sms',
          recipientId: r.id,
          payload: { messageId: ctx.messageId, from: ctx.from, to: r.phone, status: error.status ?? null, providerCode: error.providerCode ?? null, kind: error.kind },
          error: error.message.slice(0, 1000),
          attempts: r.attempts
        }
      }),
      db.messageRecipient.update({ where: { id: r.id }, data: { status: 'FAILED', errorCode, errorDetail: error.message.slice(0, 500), finalizedAt: new Date() } })
    ])
    return 'failed'
  }
}
