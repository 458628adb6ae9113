// The pg-boss queues of outbound messaging (in the registry database) and how send jobs are cut.
import type PgBoss from 'pg-boss'

export const SEND_QUEUE = 'message-send'
export const RECURRING_QUEUE = 'recurring-tick'
/** Recipients per send job: small enough that a retried or re-fetched job repeats little work. */
export const SEND_BATCH = 100

export interface SendJob { tenantId: string, messageId: string, recipientIds: string[] }

export async function ensureQueues (boss: PgBoss): Promise<void> {
  // Sends retry per recipient (see send-recipient.ts); a job fails only on infrastructure errors.
  await boss.createQueue(SEND_QUEUE, { name: SEND_QUEUE, retryLimit: 5, retryDelay: 2, retryBackoff: true })
  await boss.createQueue(RECURRING_QUEUE, { name: RECURRING_QUEUE, retryLimit: 0 })
}

export async function enqueueSend (boss: PgBoss, job: Omit<SendJob, 'recipientIds'>, recipientIds: string[], startAfter?: Date): Promise<void> {
  const jobs: PgBoss.JobInsert[] = []
  for (let i = 0; i < recipientIds.length; i += SEND_BATCH) {
    jobs.push({
      name: SEND_QUEUE,
      data: { ...job, recipientIds: recipientIds.slice(i, i + SEND_BATCH) },
      retryLimit: 5,
      retryDelay: 2,
      retryBackoff: true,
      ...(startAfter !== undefined && { startAfter })
    })
  }
  for (let i = 0; i < jobs.length; i += 500) await boss.insert(jobs.slice(i, i + 500))
}
