// Stripe webhooks against a real registry database: verification, dedupe by event id, ordering.
import { pino } from 'pino'
import t from 'tap'
import Stripe from 'stripe'
import { createStripeWebhookHandler } from '../../src/billing/stripe-webhooks.js'
import { MIGRATION_SETS, loadMigrations, migrateUp } from '../../src/db/migrator.js'
import { withClient } from '../../src/db/pg-admin.js'
import { createRegistryClient } from '../../src/registry/registry-client.js'
import { createTenantStore } from '../../src/registry/tenants.js'
import { createTestDatabase } from '../helper.js'

const SECRET = 'whsec_test_secret_for_the_fake'
const log = pino({ level: 'silent' })

const url = await createTestDatabase('registry')
const migrations = await loadMigrations(MIGRATION_SETS.registry)
await withClient(url, async (client) => { await migrateUp(client, migrations) })
const registry = createRegistryClient(url, 4)
t.teardown(() => registry.$disconnect())

// No process caches tenants here: the tenants module's invalidation has nobody to tell.
const tenants = createTenantStore({ registry, directory: { invalidate: () => {} } })
const handler = createStripeWebhookHandler({ tenants, webhookSecret: SECRET, log })
const server = await registry.databaseServer.create({
  data: { name: 'test-server', host: '127.0.0.1', port: 5432, adminUser: 'postgres', adminPasswordEncrypted: 'x', encryptionKeyId: 'k1' }
})

let tenantCount = 0
async function createTenant (stripeSubscriptionId: string) {
  tenantCount++
  const church = await registry.church.create({ data: { name: `Church ${tenantCount}`, email: `c${tenantCount}@example.org`, stripeCustomerId: `cus_t${tenantCount}` } })
  return await registry.tenant.create({
    data: {
      id: `twebhook${tenantCount}`,
      churchId: church.id,
      name: church.name,
      email: church.email,
      serverId: server.id,
      databaseName: `tenant_twebhook${tenantCount}`,
      databaseHost: '127.0.0.1',
      databasePort: 5432,
      databaseUser: `tenant_twebhook${tenantCount}`,
      databasePasswordEncrypted: 'x',
      encryptionKeyId: 'k1',
      schemaVersion: '0001_init',
      status: 'ACTIVE',
      subscriptionStatus: 'TRIALING',
      stripeSubscriptionId
    }
  })
}

let eventCount = 0
function subscriptionEvent (opts: { type?: string, subscriptionId: string, tenantId?: string, status: string, created: number, trialEnd?: number | null, id?: string }) {
  eventCount++
  return {
    id: opts.id ?? `evt_test_${eventCount}`,
    object: 'event',
    api_version: '2025-10-29.clover',
    created: opts.created,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type: opts.type ?? 'customer.subscription.updated',
    data: {
      object: {
        id: opts.subscriptionId,
        object: 'subscription',
        customer: 'cus_test',
        status: opts.status,
        trial_end: opts.trialEnd ?? null,
        metadata: opts.tenantId === undefined ? {} : { tenantId: opts.tenantId }
      },
      previous_attributes: {}
    }
  }
}

function signed (event: unknown): { body: Buffer, signature: string } {
  const payload = JSON.stringify(event)
  return { body: Buffer.from(payload), signature: Stripe.webhooks.generateTestHeaderString({ payload, secret: SECRET }) }
}

const now = () => Math.floor(Date.now() / 1000)

t.test('subscription.updated to active updates the tenant', async (t) => {
  const tenant = await createTenant('sub_active')
  const trialEnd = now() + 3600
  const event = subscriptionEvent({ subscriptionId: 'sub_active', tenantId: tenant.id, status: 'active', created: now(), trialEnd })
  const { body, signature } = signed(event)
  t.same(await handler.handle(body, signature), { status: 'processed', tenantId: tenant.id })
  const after = await registry.tenant.findUniqueOrThrow({ where: { id: tenant.id } })
  t.equal(after.subscriptionStatus, 'ACTIVE')
  t.equal(after.stripeSubscriptionId, 'sub_active')
  t.equal(after.trialEndsAt?.getTime(), trialEnd * 1000)
  const row = await registry.webhookEvent.findUniqueOrThrow({ where: { id: event.id } })
  t.match(row, { provider: 'stripe', type: 'customer.subscription.updated', processedAt: Date })
})

t.test('a tenant is found by its subscription id when metadata has no tenantId', async (t) => {
  const tenant = await createTenant('sub_bysubid')
  const { body, signature } = signed(subscriptionEvent({ subscriptionId: 'sub_bysubid', status: 'past_due', created: now() }))
  t.same(await handler.handle(body.toString('utf8'), signature), { status: 'processed', tenantId: tenant.id })
  t.equal((await registry.tenant.findUniqueOrThrow({ where: { id: tenant.id } })).subscriptionStatus, 'PAST_DUE')
})

t.test('the same event twice is a duplicate: one row, applied once', async (t) => {
  const tenant = await createTenant('sub_dup')
  const event = subscriptionEvent({ subscriptionId: 'sub_dup', tenantId: tenant.id, status: 'active', created: now() })
  const { body, signature } = signed(event)
  t.same(await handler.handle(body, signature), { status: 'processed', tenantId: tenant.id })
  // Something else changes the tenant in between; a redelivery must not apply the event again.
  await registry.tenant.update({ where: { id: tenant.id }, data: { subscriptionStatus: 'UNPAID' } })
  t.same(await handler.handle(body, signature), { status: 'duplicate' })
  t.equal(await registry.webhookEvent.count({ where: { id: event.id } }), 1)
  t.equal((await registry.tenant.findUniqueOrThrow({ where: { id: tenant.id } })).subscriptionStatus, 'UNPAID')
})

t.test('concurrent deliveries of one event apply it once', async (t) => {
  const tenant = await createTenant('sub_race')
  const { body, signature } = signed(subscriptionEvent({ subscriptionId: 'sub_race', tenantId: tenant.id, status: 'active', created: now() }))
  const outcomes = await Promise.all([1, 2, 3].map(async () => (await handler.handle(body, signature)).status))
  t.same(outcomes.sort(), ['duplicate', 'duplicate', 'processed'])
})

t.test('a bad signature is rejected and nothing is written', async (t) => {
  const tenant = await createTenant('sub_badsig')
  const event = subscriptionEvent({ subscriptionId: 'sub_badsig', tenantId: tenant.id, status: 'canceled', created: now() })
  const { body, signature } = signed(event)
  const forged = Stripe.webhooks.generateTestHeaderString({ payload: body.toString('utf8'), secret: 'whsec_someone_else' })
  const tampered = Buffer.from(body.toString('utf8').replace('canceled', 'active'))
  for (const [name, attempt] of [
    ['wrong secret', handler.handle(body, forged)],
    ['tampered body', handler.handle(tampered, signature)],
    ['no header', handler.handle(body, undefined)],
    ['garbage header', handler.handle(body, 'nonsense')],
    ['local mode', createStripeWebhookHandler({ tenants, log }).handle(body, signature)]
  ] as const) {
    await t.rejects(attempt, { code: 'INVALID_WEBHOOK_SIGNATURE', statusCode: 401 }, name)
  }
  t.equal(await registry.webhookEvent.count({ where: { id: event.id } }), 0)
  t.equal((await registry.tenant.findUniqueOrThrow({ where: { id: tenant.id } })).subscriptionStatus, 'TRIALING')
})

t.test('an older event delivered after a newer one does not overwrite it', async (t) => {
  const tenant = await createTenant('sub_order')
  const created = now()
  const newer = signed(subscriptionEvent({ subscriptionId: 'sub_order', tenantId: tenant.id, status: 'active', created }))
  const older = signed(subscriptionEvent({ subscriptionId: 'sub_order', tenantId: tenant.id, status: 'past_due', created: created - 60 }))
  t.same(await handler.handle(newer.body, newer.signature), { status: 'processed', tenantId: tenant.id })
  t.same(await handler.handle(older.body, older.signature), { status: 'ignored' })
  t.equal((await registry.tenant.findUniqueOrThrow({ where: { id: tenant.id } })).subscriptionStatus, 'ACTIVE')
  t.same(await handler.handle(older.body, older.signature), { status: 'duplicate' }, 'the ignored event is still deduplicated')
  const later = signed(subscriptionEvent({ subscriptionId: 'sub_order', tenantId: tenant.id, status: 'canceled', created: created + 60, type: 'customer.subscription.deleted' }))
  t.same(await handler.handle(later.body, later.signature), { status: 'processed', tenantId: tenant.id })
  const after = await registry.tenant.findUniqueOrThrow({ where: { id: tenant.id } })
  t.equal(after.subscriptionStatus, 'CANCELED')
  t.equal(after.subscriptionEventAt?.getTime(), (created + 60) * 1000, 'the newest applied event is recorded on the tenant')
  t.equal(await registry.auditLog.count({ where: { tenantId: tenant.id, action: 'billing.stripe_event_applied' } }), 2, 'and each applied one is audited')
})

t.test('invoice.payment_failed marks the tenant past due', async (t) => {
  const tenant = await createTenant('sub_invoice')
  const event = {
    id: 'evt_invoice_failed',
    object: 'event',
    created: now(),
    type: 'invoice.payment_failed',
    data: {
      object: {
        id: 'in_test',
        object: 'invoice',
        parent: { type: 'subscription_details', subscription_details: { subscription: 'sub_invoice', metadata: { tenantId: tenant.id } } }
      }
    }
  }
  const { body, signature } = signed(event)
  t.same(await handler.handle(body, signature), { status: 'processed', tenantId: tenant.id })
  t.equal((await registry.tenant.findUniqueOrThrow({ where: { id: tenant.id } })).subscriptionStatus, 'PAST_DUE')
})

t.test('events we do not act on, or for no tenant, are recorded and ignored', async (t) => {
  const other = signed({ id: 'evt_other', object: 'event', created: now(), type: 'customer.created', data: { object: { id: 'cus_x', object: 'customer' } } })
  t.same(await handler.handle(other.body, other.signature), { status: 'ignored' })
  const orphan = signed(subscriptionEvent({ id: 'evt_orphan', subscriptionId: 'sub_nobody', status: 'active', created: now() }))
  t.same(await handler.handle(orphan.body, orphan.signature), { status: 'ignored' })
  t.equal(await registry.webhookEvent.count({ where: { id: { in: ['evt_other', 'evt_orphan'] }, processedAt: null } }), 2)
})
