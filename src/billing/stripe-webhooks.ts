// Keeps Tenant.subscriptionStatus in sync with Stripe. Each verified event is applied at most once (its
// WebhookEvent row is written in the same transaction as the tenant change) and never over a newer one:
// Stripe retries and does not order deliveries.
import type { FastifyBaseLogger } from 'fastify'
import Stripe from 'stripe'
import { ERRORS } from '../errors.js'
import type { Prisma, SubscriptionStatus } from '../generated/registry/client.js'
import type { TenantStore, TenantWrites } from '../registry/tenants.js'

export interface StripeWebhookDeps {
  /** The event's row, the tenant's change and its audit entry commit in one tenants transaction. */
  tenants: Pick<TenantStore, 'transaction'>
  /** Unset in local mode: then every delivery is rejected, as none can be verified. */
  webhookSecret?: string | undefined
  log: Pick<FastifyBaseLogger, 'info' | 'warn'>
}

export type WebhookOutcome = 'processed' | 'duplicate' | 'ignored'
/** tenantId names the tenant a processed event changed (for the log); tenants.transaction() has already dropped it from the directory. */
export type WebhookResult = { status: 'processed', tenantId: string } | { status: Exclude<WebhookOutcome, 'processed'> }

/** What an event asks of a tenant, before we know which tenant. */
interface SubscriptionChange {
  tenantId: string | undefined
  subscriptionId: string | null
  status: SubscriptionStatus
  /** undefined: leave as is (invoice events say nothing about the trial). */
  trialEndsAt?: Date | null
  /** A subscription event names the subscription it is about; an invoice only refers to one. */
  authoritative: boolean
}

const STATUS: Record<string, SubscriptionStatus> = {
  trialing: 'TRIALING',
  active: 'ACTIVE',
  past_due: 'PAST_DUE',
  canceled: 'CANCELED',
  unpaid: 'UNPAID',
  incomplete: 'INCOMPLETE',
  incomplete_expired: 'CANCELED',
  // A trial that ended without a payment method: not paying, so not sending.
  paused: 'UNPAID'
}

// Every applied billing event is audited; ordering uses Tenant.subscriptionEventAt, the Stripe
// `created` of the newest event applied.
const APPLIED_ACTION = 'billing.stripe_event_applied'

const idOf = (value: string | { id: string } | null | undefined): string | null =>
  value === null || value === undefined ? null : typeof value === 'string' ? value : value.id

function describe (event: Stripe.Event): SubscriptionChange | null {
  switch (event.type) {
    case 'customer.subscription.created':
    case 'customer.subscription.updated':
    case 'customer.subscription.deleted': {
      const sub = event.data.object
      const status = STATUS[sub.status] ?? null
      if (status === null) return null
      return {
        tenantId: sub.metadata?.tenantId,
        subscriptionId: sub.id,
        status: event.type === 'customer.subscription.deleted' ? 'CANCELED' : status,
        trialEndsAt: sub.trial_end === null ? null : new Date(sub.trial_end * 1000),
        authoritative: true
      }
    }
    case 'invoice.payment_failed': {
      const invoice = event.data.object
      const details = invoice.parent?.subscription_details ?? null
      // Endpoints on API versions before 2025-03-31 still send the invoice's top-level `subscription`.
      const legacy = (invoice as unknown as { subscription?: string | { id: string } | null }).subscription
      const subscriptionId = idOf(details?.subscription) ?? idOf(legacy)
      if (subscriptionId === null) return null
      return { tenantId: details?.metadata?.tenantId, subscriptionId, status: 'PAST_DUE', authoritative: false }
    }
    default:
      return null
  }
}

type Tx = Prisma.TransactionClient

async function findTenant (tx: Tx, change: SubscriptionChange) {
  const select = { id: true, stripeSubscriptionId: true, subscriptionStatus: true } as const
  const byMetadata = change.tenantId === undefined ? null : await tx.tenant.findUnique({ where: { id: change.tenantId }, select })
  if (byMetadata !== null || change.subscriptionId === null) return byMetadata
  return await tx.tenant.findUnique({ where: { stripeSubscriptionId: change.subscriptionId }, select })
}

export function createStripeWebhookHandler (deps: StripeWebhookDeps) {
  const { webhookSecret, log } = deps

  function verify (rawBody: Buffer | string, signature: string | undefined): Stripe.Event {
    if (webhookSecret === undefined || webhookSecret === '' || signature === undefined || signature === '') {
      throw new ERRORS.InvalidWebhookSignature()
    }
    let event: Stripe.Event
    try {
      event = Stripe.webhooks.constructEvent(rawBody, signature, webhookSecret)
    } catch (error) {
      // The SDK checks the signature before it parses: a syntax error means a signed body that is not JSON.
      if (error instanceof SyntaxError) throw new ERRORS.InvalidWebhookPayload('body is not JSON')
      throw new ERRORS.InvalidWebhookSignature()
    }
    const shape = event as unknown as Record<string, unknown> | null
    if (typeof shape !== 'object' || shape === null || typeof shape.id !== 'string' || typeof shape.type !== 'string' || typeof shape.created !== 'number') {
      throw new ERRORS.InvalidWebhookPayload('not a Stripe event')
    }
    return event
  }

  /** Runs inside the event's transaction, after its WebhookEvent row was inserted. */
  async function apply (tx: Tx, tenants: TenantWrites, event: Stripe.Event, change: SubscriptionChange): Promise<WebhookResult> {
    const found = await findTenant(tx, change)
    if (found === null) {
      log.warn({ eventId: event.id, type: event.type, subscriptionId: change.subscriptionId }, 'stripe event for no known tenant')
      return { status: 'ignored' }
    }
    // Serializes this tenant's events so the ordering check below cannot race another delivery.
    await tx.$queryRaw`SELECT 1 FROM "Tenant" WHERE "id" = ${found.id} FOR UPDATE`
    const tenant = await tx.tenant.findUniqueOrThrow({ where: { id: found.id }, select: { id: true, stripeSubscriptionId: true, subscriptionStatus: true, subscriptionEventAt: true } })

    const otherSubscription = tenant.stripeSubscriptionId !== null && tenant.stripeSubscriptionId !== change.subscriptionId
    // Only a newly created subscription replaces the tenant's current one; news of an old one is stale.
    if (otherSubscription && event.type !== 'customer.subscription.created') return { status: 'ignored' }
    // A failed payment does not revive a canceled subscription.
    if (!change.authoritative && tenant.subscriptionStatus === 'CANCELED') return { status: 'ignored' }
    // Stripe's `created` has one-second resolution: an event of the same second as the newest applied
    // one is applied too (Stripe does not order them either).
    const eventAt = new Date(event.created * 1000)
    if (tenant.subscriptionEventAt !== null && tenant.subscriptionEventAt.getTime() > eventAt.getTime()) {
      log.info({ eventId: event.id, tenantId: tenant.id }, 'stripe event older than one already applied: ignored')
      return { status: 'ignored' }
    }

    await tenants.setSubscription(tenant.id, {
      subscriptionStatus: change.status,
      subscriptionEventAt: eventAt,
      ...(change.authoritative ? { stripeSubscriptionId: change.subscriptionId } : {}),
      ...(change.trialEndsAt !== undefined ? { trialEndsAt: change.trialEndsAt } : {})
    })
    await tx.auditLog.create({
      data: {
        actor: 'stripe',
        action: APPLIED_ACTION,
        tenantId: tenant.id,
        detail: { eventId: event.id, type: event.type, eventCreated: event.created, subscriptionId: change.subscriptionId, from: tenant.subscriptionStatus, to: change.status }
      }
    })
    await tx.webhookEvent.update({ where: { id: event.id }, data: { processedAt: new Date() } })
    return { status: 'processed', tenantId: tenant.id }
  }

  return {
    async handle (rawBody: Buffer | string, signature: string | undefined): Promise<WebhookResult> {
      const event = verify(rawBody, signature)
      const change = describe(event)
      const result = await deps.tenants.transaction(async (tenants, tx): Promise<WebhookResult> => {
        // ON CONFLICT DO NOTHING: a redelivery (even a concurrent one) inserts nothing and changes nothing.
        const inserted = await tx.webhookEvent.createMany({ data: [{ id: event.id, provider: 'stripe', type: event.type }], skipDuplicates: true })
        if (inserted.count === 0) return { status: 'duplicate' }
        return change === null ? { status: 'ignored' } : await apply(tx, tenants, event, change)
      })
      log.info({ eventId: event.id, type: event.type, outcome: result.status, ...('tenantId' in result && { tenantId: result.tenantId }) }, 'stripe webhook')
      return result
    }
  }
}

export type StripeWebhookHandler = ReturnType<typeof createStripeWebhookHandler>
