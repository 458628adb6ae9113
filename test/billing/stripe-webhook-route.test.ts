// POST /webhooks/stripe end to end: a signed subscription event changes what the tenant may do at once.
// A lapsed tenant still signs in and reads, but nothing an admin does reaches the carrier; consent
// confirmations still do.
import t from 'tap'
import Stripe from 'stripe'
import type { FastifyInstance } from 'fastify'
import { build } from '../helper.js'
import { startFakeStripe } from '../helpers/fake-stripe.js'
import { startFakeTelnyx, type FakeTelnyx } from '../helpers/fake-telnyx.js'
import { createTelnyxSigner, type TelnyxSigner } from '../helpers/telnyx-signer.js'
import { assignNumber, inboundEvent, postWebhook, signup, tenantSql, uniqueNumber, type Org } from '../helpers/messaging-fixture.js'
import { until } from '../helpers/wait.js'

const SECRET = 'whsec_route_test_secret'
const MEMBER = '+13125550188'

interface Setup { app: FastifyInstance, fake: FakeTelnyx, signer: TelnyxSigner, org: Org, number: string, subscriptionId: string }

async function setup (t: { teardown: (fn: () => unknown) => void }): Promise<Setup> {
  const stripe = await startFakeStripe()
  const fake = await startFakeTelnyx()
  t.teardown(async () => { await fake.close(); await stripe.close() })
  const signer = createTelnyxSigner()
  const app = await build(t, {
    STRIPE_SECRET_KEY: 'sk_test_route',
    STRIPE_WEBHOOK_SECRET: SECRET,
    STRIPE_API_BASE_URL: stripe.baseUrl,
    STRIPE_PRICE_ID: 'price_test',
    TELNYX_API_KEY: 'KEY_test_0123456789',
    TELNYX_PUBLIC_KEY: signer.publicKeyBase64,
    TELNYX_BASE_URL: fake.baseUrl,
    WORKER_ENABLED: 'true',
    MESSAGE_RATE_PER_SECOND: '0',
    QUIET_HOURS_START: '0',
    QUIET_HOURS_END: '0'
  })
  const org = await signup(app)
  const number = uniqueNumber()
  await assignNumber(app, org, number)
  const tenant = await app.registry.tenant.findUniqueOrThrow({ where: { id: org.tenantId } })
  if (tenant.stripeSubscriptionId === null) throw new Error('sign-up made no subscription')
  return { app, fake, signer, org, number, subscriptionId: tenant.stripeSubscriptionId }
}

let eventCount = 0
function subscriptionEvent (s: Setup, status: string, created: number) {
  eventCount++
  return {
    id: `evt_route_${eventCount}_${Date.now()}`,
    object: 'event',
    api_version: '2025-10-29.clover',
    created,
    livemode: false,
    type: 'customer.subscription.updated',
    data: { object: { id: s.subscriptionId, object: 'subscription', customer: 'cus_x', status, trial_end: null, metadata: { tenantId: s.org.tenantId } } }
  }
}

async function post (app: FastifyInstance, payload: string, signature: string | undefined, contentType = 'application/json; charset=utf-8') {
  return await app.inject({
    method: 'POST',
    url: '/webhooks/stripe',
    headers: { 'content-type': contentType, ...(signature === undefined ? {} : { 'stripe-signature': signature }) },
    payload
  })
}

const sign = (payload: string, secret = SECRET): string => Stripe.webhooks.generateTestHeaderString({ payload, secret })
const sendSigned = async (app: FastifyInstance, event: unknown) => { const payload = JSON.stringify(event); return await post(app, payload, sign(payload)) }
const subscriptionStatus = async (s: Setup) => (await s.app.registry.tenant.findUniqueOrThrow({ where: { id: s.org.tenantId } })).subscriptionStatus
const sleep = async (ms: number) => await new Promise((resolve) => setTimeout(resolve, ms))

t.test('past_due stops every admin send at once, reads still work, and active restores sending', async (t) => {
  const s = await setup(t)
  const { app, fake, org } = s
  const headers = org.auth
  const member = await app.inject({ method: 'POST', url: '/api/members', headers, payload: { firstName: 'Ann', phone: MEMBER } })
  t.equal(member.statusCode, 201, member.body)
  t.equal((await postWebhook(app, s.signer, inboundEvent({ to: s.number, from: MEMBER, text: 'Hello' }))).statusCode, 200)
  const [conversation] = await tenantSql<{ id: string }>(app, org.tenantId, 'SELECT id FROM "Conversation"')
  const conversationId = conversation?.id ?? ''
  // Puts the tenant in the directory's cache: the webhook must drop it for the change to apply at once.
  t.equal((await app.inject({ url: '/api/me', headers })).json().tenant.subscriptionStatus, 'TRIALING')

  const now = Math.floor(Date.now() / 1000)
  const pastDue = subscriptionEvent(s, 'past_due', now)
  const res = await sendSigned(app, pastDue)
  t.equal(res.statusCode, 200, res.body)
  t.same(res.json(), { received: true, status: 'processed' })
  t.equal(await subscriptionStatus(s), 'PAST_DUE')

  const me = await app.inject({ url: '/api/me', headers })
  t.equal(me.statusCode, 200, me.body)
  t.equal(me.json().tenant.subscriptionStatus, 'PAST_DUE', 'no stale cached status')
  for (const url of ['/api/members', '/api/conversations', `/api/conversations/${conversationId}/messages`, '/api/messages']) {
    t.equal((await app.inject({ url, headers })).statusCode, 200, `GET ${url} still works`)
  }

  const broadcast = await app.inject({ method: 'POST', url: '/api/messages', headers, payload: { text: 'Service moved to 10' } })
  t.equal(broadcast.statusCode, 402, broadcast.body)
  t.match(broadcast.json(), { statusCode: 402, code: 'SUBSCRIPTION_INACTIVE', message: String, requestId: String })
  const reply = await app.inject({ method: 'POST', url: `/api/conversations/${conversationId}/messages`, headers, payload: { text: 'See you Sunday' } })
  t.equal(reply.statusCode, 402, reply.body)
  t.equal(reply.json().code, 'SUBSCRIPTION_INACTIVE')

  // A recurring occurrence that falls due while lapsed is skipped, and not sent later either.
  const recurring = await app.inject({ method: 'POST', url: '/api/recurring-messages', headers, payload: { name: 'Weekly', schedule: '0 9 * * *', text: 'Hi {{firstName}}' } })
  t.equal(recurring.statusCode, 201, recurring.body)
  const recurringId = recurring.json().id as string
  await tenantSql(app, org.tenantId, 'UPDATE "RecurringMessage" SET "nextRunAt" = now() - interval \'1 minute\' WHERE id = $1', [recurringId])
  await app.messagingWorker.tickRecurring()
  const [schedule] = await tenantSql<{ nextRunAt: Date }>(app, org.tenantId, 'SELECT "nextRunAt" FROM "RecurringMessage" WHERE id = $1', [recurringId])
  t.ok((schedule?.nextRunAt.getTime() ?? 0) > Date.now(), 'the occurrence was passed over')

  t.same(await tenantSql(app, org.tenantId, 'SELECT id FROM "Message"'), [], 'no broadcast or occurrence written')
  t.same(await tenantSql(app, org.tenantId, 'SELECT id FROM "ConversationMessage" WHERE direction = \'OUTBOUND\''), [])
  await sleep(300)
  t.equal(fake.sent.length, 0, 'the carrier received nothing')

  // Compliance: an opt-out is still confirmed for a lapsed tenant's member.
  t.equal((await postWebhook(app, s.signer, inboundEvent({ to: s.number, from: '+13125550189', text: 'STOP' }))).statusCode, 200)
  t.equal(fake.sent.length, 1, 'STOP confirmation sent')
  t.match(fake.sent[0]?.body, { to: '+13125550189', text: /unsubscribed/ })

  const again = await sendSigned(app, pastDue)
  t.equal(again.statusCode, 200)
  t.same(again.json(), { received: true, status: 'duplicate' })

  const active = await sendSigned(app, subscriptionEvent(s, 'active', now + 1))
  t.same(active.json(), { received: true, status: 'processed' })
  t.equal(await subscriptionStatus(s), 'ACTIVE')
  const replied = await app.inject({ method: 'POST', url: `/api/conversations/${conversationId}/messages`, headers, payload: { text: 'See you Sunday' } })
  t.equal(replied.statusCode, 201, replied.body)
  t.match(fake.sent[1]?.body, { to: MEMBER, text: 'See you Sunday' })
  const sent = await app.inject({ method: 'POST', url: '/api/messages', headers, payload: { text: 'Back on, {{firstName}}' } })
  t.equal(sent.statusCode, 202, sent.body)
  await until(() => fake.sent.length === 3)
  t.match(fake.sent[2]?.body, { to: MEMBER, text: 'Back on, Ann' })
})

t.test('bad, missing or forged signatures are 401 and change nothing; malformed bodies are refused', async (t) => {
  const s = await setup(t)
  const { app } = s
  const event = subscriptionEvent(s, 'canceled', Math.floor(Date.now() / 1000))
  const payload = JSON.stringify(event)
  const attempts: Array<[string, string, string | undefined]> = [
    ['wrong secret', payload, sign(payload, 'whsec_someone_else')],
    ['tampered body', payload.replace('canceled', 'active'), sign(payload)],
    ['no header', payload, undefined],
    ['garbage header', payload, 'nonsense']
  ]
  for (const [name, body, signature] of attempts) {
    const res = await post(app, body, signature)
    t.equal(res.statusCode, 401, name)
    t.match(res.json(), { statusCode: 401, code: 'INVALID_WEBHOOK_SIGNATURE', requestId: String }, name)
  }
  t.equal(await subscriptionStatus(s), 'TRIALING')
  t.equal(await app.registry.webhookEvent.count({ where: { id: event.id } }), 0, 'nothing recorded')

  const notJson = '{"id": "evt_x", oops'
  const bad = await post(app, notJson, sign(notJson))
  t.equal(bad.statusCode, 400, bad.body)
  t.equal(bad.json().code, 'INVALID_WEBHOOK_PAYLOAD')
  const notEvent = '[1, 2]'
  t.equal((await post(app, notEvent, sign(notEvent))).statusCode, 400, 'JSON that is not an event')

  const huge = JSON.stringify({ ...event, padding: 'x'.repeat(1024 * 1024) })
  const tooLarge = await post(app, huge, sign(huge))
  t.equal(tooLarge.statusCode, 413)
  t.equal(tooLarge.json().code, 'PAYLOAD_TOO_LARGE')
  t.equal((await post(app, payload, sign(payload), 'text/plain')).statusCode, 415)
  t.same(await app.registry.webhookEvent.findMany(), [])
})

t.test('an expired trial cannot send either', async (t) => {
  const s = await setup(t)
  await s.app.registry.tenant.update({ where: { id: s.org.tenantId }, data: { trialEndsAt: new Date(Date.now() - 1000) } })
  s.app.directory.invalidate(s.org.tenantId)
  const res = await s.app.inject({ method: 'POST', url: '/api/messages', headers: s.org.auth, payload: { text: 'Hi' } })
  t.equal(res.statusCode, 402, res.body)
  t.equal(res.json().code, 'SUBSCRIPTION_INACTIVE')
})
