// One sender and one webhook path: inbox replies and consent replies go out with the status callback
// URL, and the carrier's status events, routed by the sending number, track their delivery as they do
// a broadcast recipient's.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import type { TelnyxSigner } from '../../helpers/telnyx-signer.js'
import { assignNumber, inboundEvent, postWebhook, signup, telnyxApp, tenantSql, uniqueNumber } from '../../helpers/messaging-fixture.js'

function statusEvent (eventType: 'message.sent' | 'message.finalized', providerMessageId: string, from: string, to: string, status: string): Record<string, unknown> {
  return {
    data: {
      id: `evt-${providerMessageId}-${status}`,
      event_type: eventType,
      occurred_at: new Date().toISOString(),
      record_type: 'event',
      payload: { id: providerMessageId, direction: 'outbound', from: { phone_number: from }, to: [{ phone_number: to, status }], text: 'x', media: [], errors: [] }
    }
  }
}

async function deliver (app: FastifyInstance, signer: TelnyxSigner, providerMessageId: string, from: string, to: string): Promise<void> {
  const sent = await postWebhook(app, signer, statusEvent('message.sent', providerMessageId, from, to, 'sent'))
  const finalized = await postWebhook(app, signer, statusEvent('message.finalized', providerMessageId, from, to, 'delivered'))
  if (sent.json().outcome !== 'status' || finalized.json().outcome !== 'status') throw new Error(`${sent.body} ${finalized.body}`)
}

t.test("an inbox reply's delivery status reaches delivered", async (t) => {
  const { app, signer, fake } = await telnyxApp(t)
  const org = await signup(app)
  const number = uniqueNumber()
  await assignNumber(app, org, number)
  const member = '+13125550420'
  await postWebhook(app, signer, inboundEvent({ to: number, from: member, text: 'Is there choir tonight?' }))
  const [conversation] = await tenantSql<{ id: string }>(app, org.tenantId, 'SELECT id FROM "Conversation"')
  const replied = await app.inject({ method: 'POST', url: `/api/conversations/${conversation?.id ?? ''}/messages`, headers: org.auth, payload: { text: 'Yes, at 7' } })
  t.equal(replied.statusCode, 201, replied.body)
  t.equal(replied.json().status, 'sent')
  t.match(String(fake.sent.at(-1)?.body.webhook_url), /\/webhooks\/telnyx$/, 'sent with the status callback URL')

  await deliver(app, signer, String(replied.json().providerMessageId), number, member)
  const page = await app.inject({ method: 'GET', url: `/api/conversations/${conversation?.id ?? ''}/messages`, headers: org.auth })
  const reply = (page.json().messages as Array<{ id: string, status: string }>).find((m) => m.id === replied.json().id)
  t.equal(reply?.status, 'delivered')
  // A late "sent" does not move it back.
  await postWebhook(app, signer, statusEvent('message.sent', String(replied.json().providerMessageId), number, member, 'sent'))
  const [row] = await tenantSql<{ status: string }>(app, org.tenantId, 'SELECT status FROM "ConversationMessage" WHERE id = $1', [replied.json().id])
  t.equal(row?.status, 'delivered')
  t.match(app.webhookStats, { statusEvents: 3, stored: 1 })
})

t.test("a consent reply's delivery status is tracked too", async (t) => {
  const { app, signer, fake } = await telnyxApp(t)
  const org = await signup(app)
  const number = uniqueNumber()
  await assignNumber(app, org, number)
  const member = '+13125550421'
  const stop = await postWebhook(app, signer, inboundEvent({ to: number, from: member, text: 'STOP' }))
  t.equal(stop.json().outcome, 'stored')
  t.equal(app.webhookStats.replies, 1)
  const sent = fake.sent.at(-1)
  t.match(String(sent?.body.webhook_url), /\/webhooks\/telnyx$/, 'consent replies carry the status callback URL')
  const [reply] = await tenantSql<{ providerMessageId: string }>(app, org.tenantId, 'SELECT "providerMessageId" FROM "ConversationMessage" WHERE direction = \'OUTBOUND\'')
  t.ok(reply?.providerMessageId)

  await deliver(app, signer, String(reply?.providerMessageId), number, member)
  const [row] = await tenantSql<{ status: string }>(app, org.tenantId, 'SELECT status FROM "ConversationMessage" WHERE direction = \'OUTBOUND\'')
  t.equal(row?.status, 'delivered')
})

t.test('status events for a number nobody owns change nothing', async (t) => {
  const { app, signer } = await telnyxApp(t)
  const res = await postWebhook(app, signer, statusEvent('message.finalized', 'nobody', '+13125559998', '+13125550422', 'delivered'))
  t.equal(res.statusCode, 200)
  t.equal(res.json().outcome, 'status')
  t.equal(app.webhookStats.statusEvents, 1)
})
