import t from 'tap'
import { assignNumber, inboundEvent, postWebhook, signup, telnyxApp, tenantSql } from '../helpers/messaging-fixture.js'

t.test('numbers are E.164 validated, idempotent for the owner, and the first becomes primary', async (t) => {
  const { app } = await telnyxApp(t)
  const org = await signup(app)
  for (const phoneNumber of ['5551234567', '+0123456789', 'abc', '+1 312 555 0100', '']) {
    const res = await app.inject({ method: 'POST', url: '/api/phone-numbers', headers: org.auth, payload: { phoneNumber } })
    t.equal(res.statusCode, 400, phoneNumber)
  }
  const bad = await app.inject({ method: 'DELETE', url: '/api/phone-numbers/12345', headers: org.auth })
  t.equal(bad.statusCode, 400)
  const anon = await app.inject({ method: 'GET', url: '/api/phone-numbers' })
  t.equal(anon.statusCode, 401)

  const first = await app.inject({ method: 'POST', url: '/api/phone-numbers', headers: org.auth, payload: { phoneNumber: '+13125550001' } })
  t.equal(first.statusCode, 201, first.body)
  t.match(first.json(), { phoneNumber: '+13125550001', isPrimary: true })
  const again = await app.inject({ method: 'POST', url: '/api/phone-numbers', headers: org.auth, payload: { phoneNumber: '+13125550001' } })
  t.equal(again.statusCode, 200, 're-adding is idempotent')
  t.equal(await app.registry.phoneNumberRegistry.count({ where: { phoneNumber: '+13125550001' } }), 1)
  const second = await app.inject({ method: 'POST', url: '/api/phone-numbers', headers: org.auth, payload: { phoneNumber: '+13125550002' } })
  t.equal(second.statusCode, 201)
  t.equal(second.json().isPrimary, false)

  const tenant = await app.registry.tenant.findUniqueOrThrow({ where: { id: org.tenantId } })
  t.equal(tenant.primaryPhoneNumber, '+13125550001')
  const list = await app.inject({ method: 'GET', url: '/api/phone-numbers', headers: org.auth })
  t.equal(list.statusCode, 200)
  t.same(list.json().phoneNumbers.map((n: { phoneNumber: string }) => n.phoneNumber), ['+13125550001', '+13125550002'])
  t.equal(list.json().primaryPhoneNumber, '+13125550001')
  const me = await app.inject({ method: 'GET', url: '/api/me', headers: org.auth })
  t.equal(me.json().tenant.primaryPhoneNumber, '+13125550001', 'the directory cache was refreshed')
})

t.test('a number belongs to one organization only', async (t) => {
  const { app } = await telnyxApp(t)
  const a = await signup(app, 'Church A')
  const b = await signup(app, 'Church B')
  await assignNumber(app, a, '+13125550011')
  const taken = await app.inject({ method: 'POST', url: '/api/phone-numbers', headers: b.auth, payload: { phoneNumber: '+13125550011' } })
  t.equal(taken.statusCode, 409)
  t.equal(taken.json().code, 'PHONE_NUMBER_TAKEN')
  const row = await app.registry.phoneNumberRegistry.findUniqueOrThrow({ where: { phoneNumber: '+13125550011' } })
  t.equal(row.tenantId, a.tenantId)
  const bTenant = await app.registry.tenant.findUniqueOrThrow({ where: { id: b.tenantId } })
  t.equal(bTenant.primaryPhoneNumber, null)
  const del = await app.inject({ method: 'DELETE', url: `/api/phone-numbers/${encodeURIComponent('+13125550011')}`, headers: b.auth })
  t.equal(del.statusCode, 404, "B cannot release A's number")

  // Concurrent claims: exactly one organization wins.
  const claims = await Promise.all([a, b].map(async (org) =>
    await app.inject({ method: 'POST', url: '/api/phone-numbers', headers: org.auth, payload: { phoneNumber: '+13125550012' } })))
  t.same(claims.map((r) => r.statusCode).sort(), [201, 409])
})

t.test('releasing the primary promotes another number or clears it', async (t) => {
  const { app } = await telnyxApp(t)
  const org = await signup(app)
  await assignNumber(app, org, '+13125550021')
  await assignNumber(app, org, '+13125550022')
  const del = await app.inject({ method: 'DELETE', url: `/api/phone-numbers/${encodeURIComponent('+13125550021')}`, headers: org.auth })
  t.equal(del.statusCode, 204, del.body)
  t.equal((await app.registry.tenant.findUniqueOrThrow({ where: { id: org.tenantId } })).primaryPhoneNumber, '+13125550022')
  await app.inject({ method: 'DELETE', url: `/api/phone-numbers/${encodeURIComponent('+13125550022')}`, headers: org.auth })
  t.equal((await app.registry.tenant.findUniqueOrThrow({ where: { id: org.tenantId } })).primaryPhoneNumber, null)
  t.equal(await app.registry.phoneNumberRegistry.count({ where: { tenantId: org.tenantId } }), 0)
  const gone = await app.inject({ method: 'DELETE', url: `/api/phone-numbers/${encodeURIComponent('+13125550022')}`, headers: org.auth })
  t.equal(gone.statusCode, 404)
})

t.test('releasing a number stops routing at once, and its next owner receives', async (t) => {
  const { app, signer } = await telnyxApp(t)
  const a = await signup(app, 'Church A')
  const b = await signup(app, 'Church B')
  const number = '+13125550031'
  await assignNumber(app, a, number)
  const first = await postWebhook(app, signer, inboundEvent({ to: number }))
  t.equal(first.statusCode, 200, first.body)
  t.equal(first.json().outcome, 'stored', 'the route is now cached')

  await app.inject({ method: 'DELETE', url: `/api/phone-numbers/${encodeURIComponent(number)}`, headers: a.auth })
  const after = await postWebhook(app, signer, inboundEvent({ to: number }))
  t.equal(after.statusCode, 200)
  t.equal(after.json().outcome, 'unrouted')
  t.equal(app.webhookStats.unrouted, 1)

  await assignNumber(app, b, number)
  const moved = await postWebhook(app, signer, inboundEvent({ to: number, text: 'for B' }))
  t.equal(moved.json().outcome, 'stored')
  t.equal((await tenantSql(app, a.tenantId, 'SELECT count(*)::int AS n FROM "ConversationMessage"'))[0]?.n, 1)
  t.same(await tenantSql(app, b.tenantId, 'SELECT body FROM "ConversationMessage"'), [{ body: 'for B' }])
})
