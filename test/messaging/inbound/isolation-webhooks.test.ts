import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { assignNumber, inboundEvent, postWebhook, signup, telnyxApp, tenantSql, uniqueNumber } from '../../helpers/messaging-fixture.js'

const TABLES = ['Member', 'Conversation', 'ConversationMessage', 'ConsentLog', 'ProcessedWebhookEvent']
async function rowCounts (app: FastifyInstance, tenantId: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const table of TABLES) out[table] = (await tenantSql<{ n: number }>(app, tenantId, `SELECT count(*)::int AS n FROM "${table}"`))[0]?.n ?? -1
  return out
}
const empty = Object.fromEntries(TABLES.map((name) => [name, 0]))

t.test("a webhook for tenant A's number never writes to tenant B", async (t) => {
  const { app, signer } = await telnyxApp(t)
  const a = await signup(app, 'Church A')
  const b = await signup(app, 'Church B')
  const numberA = uniqueNumber()
  const numberB = uniqueNumber()
  await assignNumber(app, a, numberA)
  await assignNumber(app, b, numberB)
  // The same sender texts both churches; each keeps its own member, thread and consent.
  const sender = '+13125550401'
  for (let i = 0; i < 5; i++) await postWebhook(app, signer, inboundEvent({ to: numberA, from: sender, text: `to A ${i}` }))
  await postWebhook(app, signer, inboundEvent({ to: numberA, from: sender, text: 'STOP' }))
  t.same(await rowCounts(app, b.tenantId), empty, "B's database is untouched")
  t.match(await rowCounts(app, a.tenantId), { Member: 1, Conversation: 1, ConversationMessage: 7, ConsentLog: 1, ProcessedWebhookEvent: 6 })

  await postWebhook(app, signer, inboundEvent({ to: numberB, from: sender, text: 'to B' }))
  const inB = await tenantSql(app, b.tenantId, 'SELECT m."optedOut", cm.body FROM "ConversationMessage" cm JOIN "Conversation" c ON c.id = cm."conversationId" JOIN "Member" m ON m.id = c."memberId"')
  t.same(inB, [{ optedOut: false, body: 'to B' }], 'an opt-out at A does not opt out at B')
})

t.test('bad input is refused without a 500 and without a partial write', async (t) => {
  const { app, signer } = await telnyxApp(t)
  const org = await signup(app)
  const number = uniqueNumber()
  await assignNumber(app, org, number)
  const valid = inboundEvent({ to: number })
  const data = valid.data as Record<string, unknown> & { payload: Record<string, unknown> }

  const huge = JSON.stringify({ ...valid, padding: 'x'.repeat(1024 * 1024 + 10) })
  const tooBig = await postWebhook(app, signer, huge)
  t.equal(tooBig.statusCode, 413)

  const cases: Array<[string, string]> = [
    ['non-JSON', 'this is {not json'],
    ['JSON that is not an event', JSON.stringify({ hello: 'world' })],
    ['to is a string', JSON.stringify({ ...valid, data: { ...data, payload: { ...data.payload, to: number } } })],
    ['to is empty', JSON.stringify({ ...valid, data: { ...data, payload: { ...data.payload, to: [] } } })],
    ['no from', JSON.stringify({ ...valid, data: { ...data, payload: { ...data.payload, from: undefined } } })],
    ['no payload id', JSON.stringify({ ...valid, data: { ...data, payload: { ...data.payload, id: 42 } } })],
    ['no payload', JSON.stringify({ ...valid, data: { ...data, payload: null } })],
    ['media is not a list', JSON.stringify({ ...valid, data: { ...data, payload: { ...data.payload, media: 'x' } } })]
  ]
  for (const [name, body] of cases) {
    const res = await postWebhook(app, signer, body)
    t.equal(res.statusCode, 400, `${name}: ${res.body}`)
  }
  const plain = await app.inject({ method: 'POST', url: '/webhooks/telnyx', headers: { 'content-type': 'application/xml', ...signer.sign('<x/>') }, payload: '<x/>' })
  t.equal(plain.statusCode, 415)
  t.same(await rowCounts(app, org.tenantId), empty, 'nothing was written')
  t.equal(app.webhookStats.stored, 0)

  const ok = await postWebhook(app, signer, valid)
  t.equal(ok.statusCode, 200, 'the valid event still goes through afterwards')
})

t.test('other routes still parse JSON normally', async (t) => {
  const { app } = await telnyxApp(t)
  const org = await signup(app)
  const res = await app.inject({ method: 'POST', url: '/api/phone-numbers', headers: { ...org.auth, 'content-type': 'application/json' }, payload: '{"phoneNumber":"+13125550499"}' })
  t.equal(res.statusCode, 201, res.body)
  const broken = await app.inject({ method: 'POST', url: '/api/phone-numbers', headers: { ...org.auth, 'content-type': 'application/json' }, payload: '{"phoneNumber":' })
  t.equal(broken.statusCode, 400)
})
