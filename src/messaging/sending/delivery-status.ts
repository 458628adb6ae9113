// Delivery receipts: message.sent and message.finalized (parsed by the Telnyx pipeline) move an
// outbound message on, found by its provider message id in the tenant that owns the sending number
// (the same phone-route cache inbound messages use): a broadcast recipient, or an inbox or consent
// reply. Terminal states never move back, so out-of-order events are harmless. An event can beat the
// sender recording the provider message id (the carrier answers, then the webhook races the update):
// it is retried later, not dropped.
import type PgBoss from 'pg-boss'
import type { RouteCache } from '../../registry/phone-routes.js'
import type { TenantPool } from '../../tenancy/tenant-pool.js'
import type { MessageFinalizedEvent, MessageSentEvent } from '../telnyx/webhook.js'
import { DELIVERY_RETRY_QUEUE } from './send-queue.js'

const RETRY_DELAY_SECONDS = 30
/** Tries in all, the first included: by then the id is recorded or the send never happened here. */
const MAX_TRIES = 5

const TERMINAL = ['DELIVERED', 'FAILED', 'UNDELIVERED', 'SKIPPED'] as const
// Conversation messages keep the carrier's lower-case words ('sent', 'failed', 'received').
const TERMINAL_REPLY = ['delivered', 'failed', 'undelivered']
type Status = 'SENT' | 'DELIVERED' | 'FAILED' | 'UNDELIVERED'

function statusOf (eventType: string, carrierStatus: string | undefined): Status | undefined {
  if (eventType === 'message.sent') return 'SENT'
  if (eventType !== 'message.finalized') return undefined
  switch (carrierStatus) {
    case 'delivered': return 'DELIVERED'
    case 'sending_failed': return 'FAILED'
    case 'delivery_failed': case 'delivery_unconfirmed': return 'UNDELIVERED'
    case 'sent': return 'SENT'
    default: return undefined
  }
}

export type DeliveryOutcome = 'updated' | 'ignored' | 'unknown-tenant' | 'unknown-message' | 'retry-scheduled'

/** What a retry needs, and no more: the registry holds no message text. */
export interface DeliveryRetryJob {
  tenantId: string
  providerMessageId: string
  status: Status
  errorCode: string | null
  occurredAt: string
  tries: number
}

export function createDeliveryStatus (deps: { routes: Pick<RouteCache, 'tenantFor'>, pool: Pick<TenantPool, 'withTenant'>, boss: Pick<PgBoss, 'send'> }) {
  async function apply (u: Omit<DeliveryRetryJob, 'tries'>): Promise<DeliveryOutcome> {
    const when = new Date(u.occurredAt)
    const providerMessageId = u.providerMessageId
    const errorCode = u.errorCode !== null ? { errorCode: u.errorCode } : {}
    return await deps.pool.withTenant(u.tenantId, async (db) => {
      const terminal = u.status !== 'SENT'
      const recipients = await db.messageRecipient.updateMany({
        where: { providerMessageId, status: { notIn: [...TERMINAL] } },
        data: { status: u.status, ...errorCode, ...(terminal ? { finalizedAt: when } : { sentAt: when }) }
      })
      if (recipients.count > 0) return 'updated'
      const replies = await db.conversationMessage.updateMany({
        where: { providerMessageId, direction: 'OUTBOUND', OR: [{ status: null }, { status: { notIn: TERMINAL_REPLY } }] },
        data: { status: u.status.toLowerCase(), ...errorCode }
      })
      if (replies.count > 0) return 'updated'
      const known = await db.messageRecipient.count({ where: { providerMessageId } }) + await db.conversationMessage.count({ where: { providerMessageId } })
      return known > 0 ? 'ignored' : 'unknown-message'
    })
  }

  /** Applies the update; an unknown provider id is tried again later, until MAX_TRIES. */
  async function applyOrRetry (job: DeliveryRetryJob): Promise<DeliveryOutcome> {
    const outcome = await apply(job)
    if (outcome !== 'unknown-message' || job.tries >= MAX_TRIES) return outcome
    await deps.boss.send(DELIVERY_RETRY_QUEUE, { ...job, tries: job.tries + 1 }, { startAfter: RETRY_DELAY_SECONDS })
    return 'retry-scheduled'
  }

  return {
    async handle (event: MessageSentEvent | MessageFinalizedEvent): Promise<DeliveryOutcome> {
      const payload = event.data.payload
      const status = statusOf(event.data.event_type, payload.to[0]?.status)
      if (status === undefined) return 'ignored'
      const tenantId = await deps.routes.tenantFor(payload.from.phone_number)
      if (tenantId === null) return 'unknown-tenant'
      const errorCode = payload.errors[0]?.code
      const at = new Date(event.data.occurred_at)
      const occurredAt = (Number.isNaN(at.getTime()) ? new Date() : at).toISOString()
      return await applyOrRetry({ tenantId, providerMessageId: payload.id, status, errorCode: errorCode === undefined ? null : String(errorCode), occurredAt, tries: 1 })
    },
    /** The DELIVERY_RETRY_QUEUE job handler. */
    async retry (job: DeliveryRetryJob): Promise<DeliveryOutcome> { return await applyOrRetry(job) }
  }
}

export type DeliveryStatus = ReturnType<typeof createDeliveryStatus>
