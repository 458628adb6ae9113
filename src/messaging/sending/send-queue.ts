// The pg-boss queues of outbound messaging (in the registry database) and how send jobs are cut.
import type PgBoss from 'pg-boss'
import { createQueueSafely } from '../../db/create-queue.js'

export const SEND_QUEUE = 'message-send'
export const RECURRING_QUEUE = 'recurring-tick'
/** Finds recipients whose send job was lost and recipients stuck mid-send (see send-sweep.ts). */
export const SWEEP_QUEUE = 'send-sweep'
/** Delivery events that arrived before their provider message id was recorded. */
export const DELIVERY_RETRY_QUEUE = 'delivery-status-retry'
/** Recipients per send job: small enough that a retried or re-fetched job repeats little work. */
export const SEND_BATCH = 100
const BOSS_SCHEMA = 'pgboss'

export interface SendJob { tenantId: string, messageId: string, recipientIds: string[] }

export async function ensureQueues (boss: PgBoss): Promise<void> {
  // Sends retry per recipient (see send-batch.ts); a job fails only on infrastructure errors.
  await createQueueSafely(boss, SEND_QUEUE, { name: SEND_QUEUE, retryLimit: 5, retryDelay: 2, retryBackoff: true })
  await createQueueSafely(boss, RECURRING_QUEUE, { name: RECURRING_QUEUE, retryLimit: 0 })
  // Stately: at most one sweep queued and one running, however many workers start or tick.
  await createQueueSafely(boss, SWEEP_QUEUE, { name: SWEEP_QUEUE, policy: 'stately', retryLimit: 0 })
  await createQueueSafely(boss, DELIVERY_RETRY_QUEUE, { name: DELIVERY_RETRY_QUEUE, retryLimit: 2, retryDelay: 30 })
}

export async function enqueueSend (boss: Pick<PgBoss, 'insert'>, job: Omit<SendJob, 'recipientIds'>, recipientIds: string[], startAfter?: Date): Promise<void> {
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

/**
 * Recipient ids of `messageIds` that some send job still waiting or running will look at. pg-boss has
 * no query by payload, so this reads its job table: without it the sweep would re-enqueue every
 * recipient of a long, rate-limited broadcast each minute while its own jobs are still queued.
 */
export async function recipientsWithLiveJobs (boss: Pick<PgBoss, 'getDb'>, tenantId: string, messageIds: string[]): Promise<Set<string>> {
  if (messageIds.length === 0) return new Set()
  const { rows } = await boss.getDb().executeSql(
    `SELECT DISTINCT jsonb_array_elements_text(data->'recipientIds') AS id FROM ${BOSS_SCHEMA}.job
     WHERE name = $1 AND state IN ('created', 'retry', 'active') AND data->>'tenantId' = $2 AND data->>'messageId' = ANY($3::text[])`,
    [SEND_QUEUE, tenantId, messageIds])
  return new Set((rows as Array<{ id: string }>).map((r) => r.id))
}
