// Telnyx events for a tenant whose writes a move has frozen are accepted (200) and kept in the
// registry, then applied once the tenant is writable again, on whichever server it then lives.
// Applying twice is harmless: events are processed once per event id in the tenant database.
import type { FastifyBaseLogger } from 'fastify'
import type { RegistryClient } from '../../registry/registry-client.js'
import type { TenantDirectory } from '../../registry/tenant-directory.js'

interface HeldEvent { data: { id: string, event_type: string, payload: { to: Array<{ phone_number: string }>, from: { phone_number: string } } } }

export function createWebhookHold<E extends HeldEvent> (deps: {
  registry: RegistryClient
  directory: Pick<TenantDirectory, 'get'>
  /** Which tenant a number routes to (the inbound route cache). */
  tenantFor: (phoneNumber: string) => Promise<string | null>
  /** Processes one event as if it had just arrived. */
  handle: (event: E) => Promise<unknown>
  log: FastifyBaseLogger
}) {
  const { registry, directory, log } = deps
  const replaying = new Map<string, Promise<number>>()

  // Inbound messages route by the number they were sent to, status events by the sending number.
  const numberOf = (event: E): string => event.data.event_type === 'message.received' ? event.data.payload.to[0]?.phone_number ?? '' : event.data.payload.from.phone_number

  const frozen = async (tenantId: string): Promise<boolean> =>
    (await registry.tenant.findUnique({ where: { id: tenantId }, select: { writesFrozenAt: true } }))?.writesFrozenAt != null

  /** True when the event was held (answer 200, do not process it now). */
  async function holdIfFrozen (event: E): Promise<boolean> {
    const tenantId = await deps.tenantFor(numberOf(event))
    if (tenantId === null) return false
    const tenant = await directory.get(tenantId).catch(() => null)
    if (tenant === null || tenant.writesFrozenAt == null) return false
    await registry.heldWebhook.createMany({ data: [{ id: event.data.id, tenantId, event: event as object }], skipDuplicates: true })
    // The freeze may have ended while this was written, after the move replayed what it found.
    if (!await frozen(tenantId)) void replay(tenantId).catch((error: unknown) => { log.warn({ err: error, tenantId }, 'held webhooks not replayed yet') })
    return true
  }

  /** Applies the tenant's held events in arrival order; stops at the first failure (retried later). */
  async function replay (tenantId: string): Promise<number> {
    const running = replaying.get(tenantId)
    if (running !== undefined) return await running
    const run = (async () => {
      if (await frozen(tenantId)) return 0
      const rows = await registry.heldWebhook.findMany({ where: { tenantId }, orderBy: { createdAt: 'asc' } })
      for (const row of rows) {
        await deps.handle(row.event as unknown as E)
        await registry.heldWebhook.delete({ where: { id: row.id } }).catch(() => {})
      }
      if (rows.length > 0) log.info({ tenantId, events: rows.length }, 'held webhooks applied')
      return rows.length
    })().finally(() => { replaying.delete(tenantId) })
    replaying.set(tenantId, run)
    return await run
  }

  return { holdIfFrozen, replay }
}

export type WebhookHold<E extends HeldEvent = HeldEvent> = ReturnType<typeof createWebhookHold<E>>
