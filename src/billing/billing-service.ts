// Stripe customer and trial subscription at sign-up. With a secret key it calls Stripe through the SDK;
// without one (local mode) it records each call in memory and answers with local ids, so sign-up works
// offline and tests can see what would have been sent.
import { randomBytes } from 'node:crypto'
import type { FastifyBaseLogger } from 'fastify'
import Stripe from 'stripe'

export interface BillingOptions {
  secretKey?: string | undefined
  /** Only for tests: origin of a fake Stripe API (the SDK always adds /v1/). */
  apiBaseUrl?: string | undefined
  /** No price: customers are created but no subscription (the trial is ours alone). */
  priceId?: string | undefined
  trialDays: number
  log: Pick<FastifyBaseLogger, 'info' | 'warn'>
}

export interface CreateCustomerInput { email: string, name: string, tenantId: string, idempotencyKey: string }
export interface CreateTrialInput { customerId: string, tenantId: string, idempotencyKey: string }
export interface TrialSubscription { subscriptionId: string | null, status: 'TRIALING', trialEndsAt: Date }

export type LocalBillingCall =
  | { at: Date, kind: 'createCustomer', input: CreateCustomerInput, customerId: string }
  | { at: Date, kind: 'createTrialSubscription', input: CreateTrialInput, subscriptionId: string, trialEndsAt: Date }
  | { at: Date, kind: 'deleteCustomer', customerId: string }
  | { at: Date, kind: 'findCustomerByTenant', tenantId: string, customerId: string | null }

export interface Billing {
  mode: 'stripe' | 'local'
  createCustomer: (input: CreateCustomerInput) => Promise<{ customerId: string }>
  createTrialSubscription: (input: CreateTrialInput) => Promise<TrialSubscription>
  /** Idempotent: a customer that is already gone is fine. */
  deleteCustomer: (customerId: string) => Promise<void>
  /** Finds a customer by metadata.tenantId, e.g. one created just before a crash. */
  findCustomerByTenant: (tenantId: string) => Promise<string | null>
  /** Local mode's record of calls; always empty in Stripe mode. */
  localLedger: () => readonly LocalBillingCall[]
}

const DAY_MS = 86_400_000
// One retry (with the same idempotency key) covers a dropped connection without stalling sign-up.
const MAX_NETWORK_RETRIES = 1
const TIMEOUT_MS = 10_000

const trialEnd = (trialDays: number): Date => new Date(Date.now() + trialDays * DAY_MS)

/** Stripe search query strings quote values in single quotes; escape what would end the quote. */
const searchLiteral = (value: string): string => `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`

function stripeClient (secretKey: string, apiBaseUrl: string | undefined): Stripe {
  const config: Stripe.StripeConfig = { maxNetworkRetries: MAX_NETWORK_RETRIES, timeout: TIMEOUT_MS, typescript: true }
  if (apiBaseUrl !== undefined) {
    // The SDK has no base URL option: host, port and protocol are separate and the path is always /v1/.
    const url = new URL(apiBaseUrl)
    config.host = url.hostname
    config.protocol = url.protocol === 'http:' ? 'http' : 'https'
    config.port = url.port !== '' ? url.port : url.protocol === 'http:' ? 80 : 443
  }
  return new Stripe(secretKey, config)
}

function isMissing (error: unknown): boolean {
  return error instanceof Stripe.errors.StripeError && (error.statusCode === 404 || error.code === 'resource_missing')
}

function createStripeBilling (secretKey: string, opts: BillingOptions): Billing {
  const stripe = stripeClient(secretKey, opts.apiBaseUrl)
  return {
    mode: 'stripe',
    async createCustomer ({ email, name, tenantId, idempotencyKey }) {
      const customer = await stripe.customers.create({ email, name, metadata: { tenantId } }, { idempotencyKey })
      return { customerId: customer.id }
    },
    async createTrialSubscription ({ customerId, tenantId, idempotencyKey }) {
      if (opts.priceId === undefined) return { subscriptionId: null, status: 'TRIALING', trialEndsAt: trialEnd(opts.trialDays) }
      const subscription = await stripe.subscriptions.create({
        customer: customerId,
        items: [{ price: opts.priceId }],
        ...(opts.trialDays > 0 ? { trial_period_days: opts.trialDays } : {}),
        metadata: { tenantId }
      }, { idempotencyKey })
      const ends = subscription.trial_end !== null ? new Date(subscription.trial_end * 1000) : trialEnd(opts.trialDays)
      return { subscriptionId: subscription.id, status: 'TRIALING', trialEndsAt: ends }
    },
    async deleteCustomer (customerId) {
      try {
        await stripe.customers.del(customerId)
      } catch (error) {
        if (!isMissing(error)) throw error
        opts.log.info({ customerId }, 'stripe customer already deleted')
      }
    },
    async findCustomerByTenant (tenantId) {
      // Stripe's search index lags writes by up to about a minute; callers run well after that.
      const found = await stripe.customers.search({ query: `metadata['tenantId']:${searchLiteral(tenantId)}`, limit: 10 })
      if (found.data.length > 1) opts.log.warn({ tenantId, customerIds: found.data.map((c) => c.id) }, 'several stripe customers for one tenant')
      return found.data[0]?.id ?? null
    },
    localLedger: () => []
  }
}

function createLocalBilling (opts: BillingOptions): Billing {
  const ledger: LocalBillingCall[] = []
  const customers = new Map<string, string>() // customerId -> tenantId
  const byKey = new Map<string, string>() // idempotency key -> id, as Stripe replays a repeated key
  const localId = (prefix: string): string => `${prefix}_local_${randomBytes(9).toString('base64url').replace(/[-_]/g, 'x')}`
  return {
    mode: 'local',
    async createCustomer (input) {
      const customerId = byKey.get(input.idempotencyKey) ?? localId('cus')
      byKey.set(input.idempotencyKey, customerId)
      customers.set(customerId, input.tenantId)
      ledger.push({ at: new Date(), kind: 'createCustomer', input, customerId })
      return { customerId }
    },
    async createTrialSubscription (input) {
      const subscriptionId = byKey.get(input.idempotencyKey) ?? localId('sub')
      byKey.set(input.idempotencyKey, subscriptionId)
      const trialEndsAt = trialEnd(opts.trialDays)
      ledger.push({ at: new Date(), kind: 'createTrialSubscription', input, subscriptionId, trialEndsAt })
      return { subscriptionId, status: 'TRIALING', trialEndsAt }
    },
    async deleteCustomer (customerId) {
      customers.delete(customerId)
      ledger.push({ at: new Date(), kind: 'deleteCustomer', customerId })
    },
    async findCustomerByTenant (tenantId) {
      const customerId = [...customers].find(([, owner]) => owner === tenantId)?.[0] ?? null
      ledger.push({ at: new Date(), kind: 'findCustomerByTenant', tenantId, customerId })
      return customerId
    },
    localLedger: () => ledger
  }
}

export function createBilling (opts: BillingOptions): Billing {
  if (opts.secretKey !== undefined && opts.secretKey !== '') return createStripeBilling(opts.secretKey, opts)
  opts.log.info('billing in local mode: Stripe calls are recorded, not sent')
  return createLocalBilling(opts)
}
