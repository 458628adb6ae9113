// The billing service with the real Stripe SDK against a local fake of the API, and in local mode.
import { pino } from 'pino'
import t from 'tap'
import { createBilling } from '../../src/billing/billing-service.js'
import { startFakeStripe } from '../helpers/fake-stripe.js'

const log = pino({ level: 'silent' })

t.test('stripe mode with the real SDK', async (t) => {
  const fake = await startFakeStripe()
  t.teardown(() => fake.close())
  const billing = createBilling({ secretKey: 'sk_test_fake', apiBaseUrl: fake.baseUrl, priceId: 'price_starter', trialDays: 14, log })
  t.equal(billing.mode, 'stripe')

  t.test('a customer is created with the tenant in its metadata and our idempotency key', async (t) => {
    const { customerId } = await billing.createCustomer({ email: 'pastor@example.org', name: 'Grace Church', tenantId: 'tabc', idempotencyKey: 'customer-tabc' })
    t.match(customerId, /^cus_/)
    t.match(fake.customers.get(customerId), { email: 'pastor@example.org', name: 'Grace Church', metadata: { tenantId: 'tabc' } })
    const call = fake.calls.at(-1)
    t.match(call, { method: 'POST', path: '/v1/customers', idempotencyKey: 'customer-tabc', body: { metadata: { tenantId: 'tabc' } } })
    t.same(billing.localLedger(), [], 'nothing recorded locally in stripe mode')
  })

  t.test('the same idempotency key twice gives one customer', async (t) => {
    const before = fake.customers.size
    const first = await billing.createCustomer({ email: 'a@example.org', name: 'A', tenantId: 'tdup', idempotencyKey: 'customer-tdup' })
    const second = await billing.createCustomer({ email: 'a@example.org', name: 'A', tenantId: 'tdup', idempotencyKey: 'customer-tdup' })
    t.equal(second.customerId, first.customerId)
    t.equal(fake.customers.size, before + 1)
  })

  t.test('a trial subscription carries the price, trial days and tenant', async (t) => {
    const { customerId } = await billing.createCustomer({ email: 'b@example.org', name: 'B', tenantId: 'tsub', idempotencyKey: 'customer-tsub' })
    const trial = await billing.createTrialSubscription({ customerId, tenantId: 'tsub', idempotencyKey: 'subscription-tsub' })
    t.match(trial, { subscriptionId: /^sub_/, status: 'TRIALING' })
    const days = (trial.trialEndsAt.getTime() - Date.now()) / 86_400_000
    t.ok(days > 13.9 && days <= 14, `trial ends in 14 days (${days})`)
    t.match(fake.calls.at(-1), {
      method: 'POST',
      path: '/v1/subscriptions',
      idempotencyKey: 'subscription-tsub',
      body: { customer: customerId, items: [{ price: 'price_starter' }], trial_period_days: '14', metadata: { tenantId: 'tsub' } }
    })
  })

  t.test('a 500 is retried once by the SDK, then surfaces as an error', async (t) => {
    const before = fake.calls.length
    fake.failNext(500, 2)
    await t.rejects(billing.createCustomer({ email: 'c@example.org', name: 'C', tenantId: 'tfail', idempotencyKey: 'customer-tfail' }), { message: /Scripted 500/, statusCode: 500, type: 'StripeAPIError' })
    const attempts = fake.calls.slice(before)
    t.equal(attempts.length, 2, 'one try and one retry')
    t.same(attempts.map((c) => c.idempotencyKey), ['customer-tfail', 'customer-tfail'], 'the retry reuses our key')
    t.notOk([...fake.customers.values()].some((c) => c.metadata.tenantId === 'tfail'))
  })

  t.test('one 500 then success: the retry creates the customer', async (t) => {
    fake.failNext(500, 1)
    const { customerId } = await billing.createCustomer({ email: 'd@example.org', name: 'D', tenantId: 'tretry', idempotencyKey: 'customer-tretry' })
    t.ok(fake.customers.has(customerId))
  })

  t.test('deleteCustomer removes a customer and accepts one that is already gone', async (t) => {
    const { customerId } = await billing.createCustomer({ email: 'e@example.org', name: 'E', tenantId: 'tdel', idempotencyKey: 'customer-tdel' })
    await billing.deleteCustomer(customerId)
    t.notOk(fake.customers.has(customerId))
    await billing.deleteCustomer(customerId)
    await billing.deleteCustomer('cus_neverexisted')
    t.match(fake.calls.at(-1), { method: 'DELETE', path: '/v1/customers/cus_neverexisted' })
  })

  t.test('findCustomerByTenant searches by metadata', async (t) => {
    const { customerId } = await billing.createCustomer({ email: 'f@example.org', name: 'F', tenantId: 'tfind', idempotencyKey: 'customer-tfind' })
    t.equal(await billing.findCustomerByTenant('tfind'), customerId)
    t.equal(fake.calls.at(-1)?.path, '/v1/customers/search')
    t.equal(await billing.findCustomerByTenant('tnobody'), null)
  })

  t.test('a wrong key is an authentication error', async (t) => {
    const bad = createBilling({ secretKey: 'rk_wrong', apiBaseUrl: fake.baseUrl, trialDays: 14, log })
    await t.rejects(bad.createCustomer({ email: 'g@example.org', name: 'G', tenantId: 'tauth', idempotencyKey: 'customer-tauth' }), { message: /Invalid API Key/, statusCode: 401, type: 'StripeAuthenticationError' })
  })
})

t.test('stripe mode without a price creates no subscription', async (t) => {
  const fake = await startFakeStripe()
  t.teardown(() => fake.close())
  const billing = createBilling({ secretKey: 'sk_test_fake', apiBaseUrl: fake.baseUrl, trialDays: 30, log })
  const trial = await billing.createTrialSubscription({ customerId: 'cus_x', tenantId: 'tnoprice', idempotencyKey: 'subscription-tnoprice' })
  t.equal(trial.subscriptionId, null)
  t.equal(trial.status, 'TRIALING')
  t.ok(trial.trialEndsAt.getTime() > Date.now() + 29 * 86_400_000)
  t.equal(fake.calls.length, 0, 'Stripe was not called')
})

t.test('local mode records calls and answers with local ids', async (t) => {
  const billing = createBilling({ trialDays: 14, log })
  t.equal(billing.mode, 'local')
  const { customerId } = await billing.createCustomer({ email: 'h@example.org', name: 'H', tenantId: 'tlocal', idempotencyKey: 'customer-tlocal' })
  t.match(customerId, /^cus_local_[A-Za-z0-9]+$/)
  const again = await billing.createCustomer({ email: 'h@example.org', name: 'H', tenantId: 'tlocal', idempotencyKey: 'customer-tlocal' })
  t.equal(again.customerId, customerId, 'a repeated idempotency key gives the same customer')
  const trial = await billing.createTrialSubscription({ customerId, tenantId: 'tlocal', idempotencyKey: 'subscription-tlocal' })
  t.match(trial, { subscriptionId: /^sub_local_/, status: 'TRIALING' })
  t.equal(await billing.findCustomerByTenant('tlocal'), customerId)
  await billing.deleteCustomer(customerId)
  await billing.deleteCustomer(customerId)
  t.equal(await billing.findCustomerByTenant('tlocal'), null)
  t.same(billing.localLedger().map((call) => call.kind), [
    'createCustomer', 'createCustomer', 'createTrialSubscription', 'findCustomerByTenant', 'deleteCustomer', 'deleteCustomer', 'findCustomerByTenant'
  ])
  t.match(billing.localLedger()[0], { kind: 'createCustomer', input: { email: 'h@example.org', tenantId: 'tlocal' }, customerId })
})
