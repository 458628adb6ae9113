// Delivery receipts: message.sent and message.finalized move a recipient on, found by the provider
// message id in the tenant that owns the sending number. Terminal states never move back, so
// out-of-order events are harmless.
import type { RegistryClient } from '../registry/registry-client.js'
import type { TenantPool } from '../tenancy/tenant-pool.js'
import type { TelnyxEvent, TelnyxMessagePayload } from './telnyx-webhook.js'

const TERMINAL = ['DELIVERED', 'FAILED', 'UNDELIVERED', 'SKIPPED'] as const
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

export type DeliveryOutcome = 'updated' | 'ignored' | 'unknown-tenant' | 'unknown-message'

export function createDeliveryStatus (deps: { registry: RegistryClient, pool: Pick<TenantPool, 'withTenant'> }) {
  async function tenantFor (from: string): Promise<string | undefined> {
    const number = await deps.registry.phoneNumberRegistry.findUnique({ where: { phoneNumber: from }, select: { tenantId: true } })
    if (number !== null) return number.tenantId
    return (await deps.registry.tenant.findFirst({ where: { primaryPhoneNumber: from }, select: { id: true } }))?.id
  }

  return {
    async handle (event: TelnyxEvent): Promise<DeliveryOutcome> {
      const payload = event.data.payload as Partial<TelnyxMessagePayload>
      const status = statusOf(event.data.event_type, payload.to?.[0]?.status)
      const from = payload.from?.phone_number
      if (status === undefined || typeof payload.id !== 'string' || typeof from !== 'string') return 'ignored'
      const tenantId = await tenantFor(from)
      if (tenantId === undefined) return 'unknown-tenant'
      const errorCode = payload.errors?.[0]?.code ?? null
      const at = new Date(event.data.occurred_at)
      const when = Number.isNaN(at.getTime()) ? new Date() : at
      return await deps.pool.withTenant(tenantId, async (db) => {
        const terminal = status !== 'SENT'
        const changed = await db.messageRecipient.updateMany({
          where: { providerMessageId: payload.id, status: { notIn: [...TERMINAL] } },
          data: {
            status,
            ...(errorCode !== null && { errorCode: String(errorCode) }),
            ...(terminal ? { finalizedAt: when } : { sentAt: when })
          }
        })
        if (changed.count > 0) return 'updated'
        const known = await db.messageRecipient.count({ where: { providerMessageId: payload.id } })
        return known > 0 ? 'ignored' : 'unknown-message'
      })
    }
  }
}

export type DeliveryStatus = ReturnType<typeof createDeliveryStatus>
