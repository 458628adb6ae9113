import t from 'tap'
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { TEST_SECRETS } from '../../helper.js'
import { createTelnyxSigner } from '../../helpers/telnyx-signer.js'
import { assignNumber, inboundEvent, postWebhook, signup, telnyxApp, tenantSql, uniqueNumber } from '../../helpers/messaging-fixture.js'

const count = async (app: FastifyInstance, tenantId: string, table: string): Promise<number> =>
  (await tenantSql<{ n: number }>(app, tenantId, `SELECT count(*)::int AS n FROM "${table}"`))[0]?.n ?? -1

t.test('missing, bad or stale signatures get 401 and nothing is written', async (t) => {
  const { app, signer } = await telnyxApp(t)
  const org = await signup(app)
  const number = uniqueNumber()
  await assignNumber(app, org, number)
  const raw = JSON.stringify(inboundEvent({ to: number }))
  const unsigned = await app.inject({ method: 'POST', url: '/webhooks/telnyx', headers: { 'content-type': 'application/json' }, payload: raw })
  t.equal(unsigned.statusCode, 401)
  t.equal(unsigned.json().code, 'INVALID_WEBHOOK_SIGNATURE')
  const other = createTelnyxSigner()
  const forged = await app.inject({ method: 'POST', url: '/webhooks/telnyx', headers: { 'content-type': 'application/json', ...other.sign(raw) }, payload: raw })
  t.equal(forged.statusCode, 401, 'signed with another key')
  const tampered = await app.inject({ method: 'POST', url: '/webhooks/telnyx', headers: { 'content-type': 'application/json', ...signer.sign(raw) }, payload: raw.replace('Hello church', 'Hello chorch') })
  t.equal(tampered.statusCode, 401, 'body changed after signing')
  const stale = await app.inject({ method: 'POST', url: '/webhooks/telnyx', headers: { 'content-type': 'application/json', ...signer.sign(raw, Math.floor(Date.now() / 1000) - 600) }, payload: raw })
  t.equal(stale.statusCode, 401, 'older than 300 s')
  for (const table of ['Member', 'Conversation', 'ConversationMessage', 'ProcessedWebhookEvent']) t.equal(await count(app, org.tenantId, table), 0, table)
  t.equal(app.webhookStats.rejected, 4)
})

t.test('in local mode without TELNYX_PUBLIC_KEY every webhook is refused', async (t) => {
  const { app, signer } = await telnyxApp(t, { apiKey: false, publicKey: false })
  const org = await signup(app)
  const number = uniqueNumber()
  await assignNumber(app, org, number)
  const res = await postWebhook(app, signer, inboundEvent({ to: number }))
  t.equal(res.statusCode, 401)
  t.equal(await count(app, org.tenantId, 'ConversationMessage'), 0)
})

t.test('message.received stores a contact, a conversation and the message with media', async (t) => {
  const { app, signer } = await telnyxApp(t)
  const org = await signup(app)
  const number = uniqueNumber()
  await assignNumber(app, org, number)
  const media = [{ url: 'https://media.example.org/a.jpg', content_type: 'image/jpeg' }]
  const res = await postWebhook(app, signer, inboundEvent({ to: number, from: '+13125550199', text: 'See you Sunday', media, messageId: 'msg-1' }))
  t.equal(res.statusCode, 200, res.body)
  t.same(res.json(), { received: true, outcome: 'stored' })

  const [member] = await tenantSql(app, org.tenantId, 'SELECT * FROM "Member"')
  t.match(member, { phone: '+13125550199', isContact: true, firstName: '', lastName: '', optedOut: false })
  const [conversation] = await tenantSql(app, org.tenantId, 'SELECT * FROM "Conversation"')
  t.match(conversation, { memberId: member?.id, unreadCount: 1, lastMessagePreview: 'See you Sunday' })
  const [message] = await tenantSql(app, org.tenantId, 'SELECT * FROM "ConversationMessage"')
  t.match(message, { direction: 'INBOUND', body: 'See you Sunday', providerMessageId: 'msg-1', fromNumber: '+13125550199', toNumber: number })
  t.same(message?.media, [{ url: 'https://media.example.org/a.jpg', contentType: 'image/jpeg' }])
  t.equal(await count(app, org.tenantId, 'ProcessedWebhookEvent'), 1)
})

t.test('a known member is matched by phone and keeps one conversation', async (t) => {
  const { app, signer } = await telnyxApp(t)
  const org = await signup(app)
  const number = uniqueNumber()
  await assignNumber(app, org, number)
  await tenantSql(app, org.tenantId, 'INSERT INTO "Member" (id, "firstName", "lastName", phone, "updatedAt") VALUES ($1, \'Ada\', \'Lovelace\', \'+13125550150\', now())', [randomUUID()])
  const version = async (): Promise<string | undefined> => (await tenantSql<{ v: string }>(app, org.tenantId, 'SELECT xmin::text AS v FROM "Member"'))[0]?.v
  const before = await version()
  await postWebhook(app, signer, inboundEvent({ to: number, from: '+13125550150', text: 'one' }))
  await postWebhook(app, signer, inboundEvent({ to: number, from: '+13125550150', text: 'two' }))
  const members = await tenantSql(app, org.tenantId, 'SELECT "firstName", "isContact" FROM "Member"')
  t.same(members, [{ firstName: 'Ada', isContact: false }])
  // Matching a member reads it: a no-op upsert would write a new row version for every message.
  t.equal(await version(), before, 'the member row was not rewritten')
  const conversations = await tenantSql(app, org.tenantId, 'SELECT "unreadCount", "lastMessagePreview" FROM "Conversation"')
  t.same(conversations, [{ unreadCount: 2, lastMessagePreview: 'two' }])
})

t.test('retries and concurrent duplicates are stored once and counted once', async (t) => {
  const { app, signer } = await telnyxApp(t)
  const org = await signup(app)
  const number = uniqueNumber()
  await assignNumber(app, org, number)
  const event = inboundEvent({ to: number, messageId: 'dup-1', eventId: 'evt-1' })
  const first = await postWebhook(app, signer, event)
  const retry = await postWebhook(app, signer, event)
  t.equal(first.json().outcome, 'stored')
  t.equal(retry.statusCode, 200)
  t.equal(retry.json().outcome, 'duplicate')
  // Same provider message under new event ids, all at once: the unique constraint keeps one row.
  const burst = await Promise.all(Array.from({ length: 10 }, async () =>
    await postWebhook(app, signer, inboundEvent({ to: number, messageId: 'dup-2' }))))
  t.ok(burst.every((r) => r.statusCode === 200), burst.map((r) => r.statusCode).join(','))
  t.equal(burst.filter((r) => r.json().outcome === 'stored').length, 1)
  t.equal(await count(app, org.tenantId, 'ConversationMessage'), 2)
  t.equal(await count(app, org.tenantId, 'Member'), 1)
  const [conversation] = await tenantSql(app, org.tenantId, 'SELECT "unreadCount" FROM "Conversation"')
  t.equal(conversation?.unreadCount, 2, 'counters moved only for inserted rows')
  // The unique provider message id is the one guard: an event is recorded only with the message it
  // stored, so the ten deliveries of dup-2 under new event ids leave one record, as they leave one row.
  t.equal(await count(app, org.tenantId, 'ProcessedWebhookEvent'), 2)
})

t.test('concurrent first messages from a new sender all land in one conversation', async (t) => {
  const { app, signer } = await telnyxApp(t)
  const org = await signup(app)
  const number = uniqueNumber()
  await assignNumber(app, org, number)
  const burst = await Promise.all(Array.from({ length: 12 }, async (_, i) =>
    await postWebhook(app, signer, inboundEvent({ to: number, from: '+13125550188', text: `burst ${i}` }))))
  t.same(burst.map((r) => r.statusCode), Array(12).fill(200))
  t.equal(await count(app, org.tenantId, 'Member'), 1)
  t.equal(await count(app, org.tenantId, 'Conversation'), 1)
  t.equal(await count(app, org.tenantId, 'ConversationMessage'), 12, 'none lost to the race')
  const [conversation] = await tenantSql(app, org.tenantId, 'SELECT "unreadCount" FROM "Conversation"')
  t.equal(conversation?.unreadCount, 12)
})

t.test('unrouted numbers and unknown events get 200; counters are visible to operators', async (t) => {
  const { app, signer } = await telnyxApp(t)
  const org = await signup(app)
  const number = uniqueNumber()
  await assignNumber(app, org, number)
  const nowhere = await postWebhook(app, signer, inboundEvent({ to: '+13125559999' }))
  t.equal(nowhere.statusCode, 200)
  t.equal(nowhere.json().outcome, 'unrouted')
  const unknown = await postWebhook(app, signer, inboundEvent({ to: number, eventType: 'call.initiated' }))
  t.equal(unknown.statusCode, 200)
  t.equal(unknown.json().outcome, 'ignored')
  t.equal(await count(app, org.tenantId, 'ProcessedWebhookEvent'), 0)

  const stats = await app.inject({ method: 'GET', url: '/api/platform/webhooks', headers: { authorization: `Bearer ${TEST_SECRETS.PLATFORM_ADMIN_TOKEN}` } })
  t.equal(stats.statusCode, 200, stats.body)
  t.match(stats.json().telnyx, { received: 2, unrouted: 1, ignored: 1, stored: 0 })
  const denied = await app.inject({ method: 'GET', url: '/api/platform/webhooks', headers: org.auth })
  t.equal(denied.statusCode, 401)
})

t.test('message.sent and message.finalized go to delivery status, routed by the sending number', async (t) => {
  const { app, signer } = await telnyxApp(t)
  const org = await signup(app)
  const number = uniqueNumber()
  await assignNumber(app, org, number)
  await app.pool.withTenant(org.tenantId, async (db) => {
    await db.message.create({ data: { id: 'm1', body: 'x', status: 'SENDING', recipients: { create: [{ phone: '+13125550101', body: 'x', status: 'SENDING', providerMessageId: 'p1' }] } } })
  })
  const statusEvent = (eventType: string, status: string): Record<string, unknown> => {
    const event = inboundEvent({ to: '+13125550101', from: number, eventType, messageId: 'p1' })
    ;(event.data as { payload: { to: Array<{ status: string }> } }).payload.to[0]!.status = status
    return event
  }
  const sent = await postWebhook(app, signer, statusEvent('message.sent', 'sent'))
  const finalized = await postWebhook(app, signer, statusEvent('message.finalized', 'delivered'))
  t.equal(sent.json().outcome, 'status')
  t.equal(finalized.json().outcome, 'status')
  const [recipient] = await tenantSql<{ status: string }>(app, org.tenantId, 'SELECT status FROM "MessageRecipient" WHERE "providerMessageId" = \'p1\'')
  t.equal(recipient?.status, 'DELIVERED')
  t.equal(app.webhookStats.statusEvents, 2)
  t.equal(await count(app, org.tenantId, 'ConversationMessage'), 0, 'a status event stores no message')
})
