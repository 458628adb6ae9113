import t from 'tap'
import { build } from '../helper.js'

const FROM = '+13125550000'
const event = (type: string, id: string, status: string, errors: Array<{ code: string, title: string }> = []) => ({
  data: { id: `evt-${Math.random()}`, event_type: type, occurred_at: new Date().toISOString(), payload: { id, from: { phone_number: FROM }, to: [{ phone_number: '+13125550101', status }], text: 'x', media: [], errors } }
})

t.test('delivery events update the recipient by provider id; terminal states never move back', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { email: `p${Math.random().toString(36).slice(2)}@example.org`, password: 'correct horse battery staple', firstName: 'Grace', lastName: 'Hopper', churchName: 'First Church' } })
  const tenantId = res.json().tenantId as string
  await app.registry.tenant.update({ where: { id: tenantId }, data: { primaryPhoneNumber: FROM } })
  const read = async (id: string) => await app.pool.withTenant(tenantId, async (db) => await db.messageRecipient.findFirstOrThrow({ where: { providerMessageId: id } }))
  await app.pool.withTenant(tenantId, async (db) => {
    await db.message.create({
      data: {
        id: 'm1', body: 'x', status: 'SENDING',
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

  t.equal(await app.deliveryStatus.handle(event('message.sent', 'nope', 'sent')), 'unknown-message')
  const other = event('message.sent', 'p1', 'sent')
  other.data.payload.from.phone_number = '+13125559999'
  t.equal(await app.deliveryStatus.handle(other), 'unknown-tenant')
})
