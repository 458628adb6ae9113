import t from 'tap'
import { build, registerOrganization } from '../../helper.js'
import type { DeliveryRetryJob } from '../../../src/messaging/sending/delivery-status.js'
import type { MessageFinalizedEvent, MessageSentEvent } from '../../../src/messaging/telnyx/webhook.js'

const FROM = '+13125550000'
const event = (type: 'message.sent' | 'message.finalized', id: string, status: string, errors: Array<{ code: string, title: string }> = []) => ({
  data: { id: `evt-${Math.random()}`, event_type: type, occurred_at: new Date().toISOString(), payload: { id, from: { phone_number: FROM }, to: [{ phone_number: '+13125550101', status }], text: 'x', media: [], errors } }
}) as MessageSentEvent | MessageFinalizedEvent

t.test('delivery events update the recipient by provider id; terminal states never move back', async (t) => {
  const app = await build(t)
  const res = await registerOrganization(app)
  const tenantId = res.json().tenantId as string
  await app.phoneNumbers.add(tenantId, FROM)
  const read = async (id: string) => await app.pool.withTenant(tenantId, async (db) => await db.messageRecipient.findFirstOrThrow({ where: { providerMessageId: id } }))
  await app.pool.withTenant(tenantId, async (db) => {
    await db.message.create({
      data: {
        id: 'm1',
        body: 'x',
        status: 'SENDING',
        recipients: { create: [{ phone: '+13125550101', body: 'x', status: 'SENDING', providerMessageId: 'p1' }, { phone: '+13125550102', body: 'x', status: 'SENT', providerMessageId: 'p2' }] }
      }
    })
  })
  t.equal(await app.deliveryStatus.handle(event('message.sent', 'p1', 'sent')), 'updated')
  t.equal((await read('p1')).status, 'SENT')
  t.equal(await app.deliveryStatus.handle(event('message.finalized', 'p1', 'delivered')), 'updated')
  t.equal((await read('p1')).status, 'DELIVERED')
  t.equal(await app.deliveryStatus.handle(event('message.sent', 'p1', 'sent')), 'ignored', 'late sent event does not move back')
  t.equal((await read('p1')).status, 'DELIVERED')

  await app.deliveryStatus.handle(event('message.finalized', 'p2', 'delivery_failed', [{ code: '40008', title: 'Undeliverable' }]))
  t.match(await read('p2'), { status: 'UNDELIVERED', errorCode: '40008' })
  await app.deliveryStatus.handle(event('message.finalized', 'p2', 'delivered'))
  t.match(await read('p2'), { status: 'UNDELIVERED', errorCode: '40008' })

  t.equal(await app.deliveryStatus.handle(event('message.sent', 'nope', 'sent')), 'retry-scheduled', 'an unknown id may just not be recorded yet')
  const other = event('message.sent', 'p1', 'sent')
  other.data.payload.from.phone_number = '+13125559999'
  t.equal(await app.deliveryStatus.handle(other), 'unknown-tenant')
})

t.test('an event that beats the provider id is retried later and lands; retries stop after five tries', async (t) => {
  const app = await build(t)
  const res = await registerOrganization(app)
  const tenantId = res.json().tenantId as string
  await app.phoneNumbers.add(tenantId, FROM)
  await app.pool.withTenant(tenantId, async (db) => {
    await db.message.create({ data: { id: 'm1', body: 'x', status: 'SENDING', recipients: { create: [{ id: 'r1', phone: '+13125550101', body: 'x', status: 'SENDING' }] } } })
  })
  t.equal(await app.deliveryStatus.handle(event('message.finalized', 'early', 'delivered')), 'retry-scheduled')
  const [job] = await app.boss.fetch<DeliveryRetryJob>('delivery-status-retry', { batchSize: 5, ignoreStartAfter: true, includeMetadata: true }) ?? []
  t.ok(job, 'a retry job is queued')
  t.ok((job?.startAfter.getTime() ?? 0) > Date.now() + 20_000, 'for later, not now')
  t.notMatch(JSON.stringify(job?.data), /"text"/, 'no message text in the registry')
  // The worker records the carrier's id (as recordOutcomes does), then the retry runs.
  await app.pool.withTenant(tenantId, async (db) => { await db.messageRecipient.update({ where: { id: 'r1' }, data: { providerMessageId: 'early', status: 'SENT' } }) })
  t.equal(await app.deliveryStatus.retry(job?.data as DeliveryRetryJob), 'updated')
  const r1 = await app.pool.withTenant(tenantId, async (db) => await db.messageRecipient.findUniqueOrThrow({ where: { id: 'r1' } }))
  t.equal(r1.status, 'DELIVERED')
  t.ok(r1.finalizedAt !== null)

  const last = { ...(job?.data as DeliveryRetryJob), providerMessageId: 'never', tries: 5 }
  t.equal(await app.deliveryStatus.retry(last), 'unknown-message', 'the fifth try is the last')
  t.equal(await app.deliveryStatus.retry({ ...last, tries: 4 }), 'retry-scheduled')
  const queued = await app.boss.fetch<DeliveryRetryJob>('delivery-status-retry', { batchSize: 5, ignoreStartAfter: true }) ?? []
  t.same(queued.map((j) => j.data.tries), [5])
})
