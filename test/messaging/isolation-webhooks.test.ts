import t from 'tap'
import { randomUUID } from 'node:crypto'
import type { FastifyInstance } from 'fastify'
import { build, testServerUrl } from '../helper.js'
import { withClient, withDatabase } from '../../src/db/pg-admin.js'
import { createTelnyxSigner, type TelnyxSigner } from '../helpers/telnyx-signer.js'
import { startFakeTelnyx, type FakeTelnyx } from '../helpers/fake-telnyx.js'

// Shared set-up (kept in each messaging test file): a signed-up organization, signed webhooks, tenant SQL.
interface Org { tenantId: string, accessToken: string, auth: { authorization: string } }

async function signup (app: FastifyInstance, churchName = 'First Church'): Promise<Org> {
  const res = await app.inject({
    method: 'POST',
    url: '/api/auth/register',
    payload: { email: `p.${randomUUID()}@example.org`, password: 'correct horse battery staple', firstName: 'Grace', lastName: 'Hopper', churchName }
  })
  if (res.statusCode !== 201) throw new Error(res.body)
  const { tenantId, accessToken } = res.json() as { tenantId: string, accessToken: string }
  return { tenantId, accessToken, auth: { authorization: `Bearer ${accessToken}` } }
}

async function assignNumber (app: FastifyInstance, org: Org, phoneNumber: string): Promise<void> {
  const res = await app.inject({ method: 'POST', url: '/api/phone-numbers', headers: org.auth, payload: { phoneNumber } })
  if (res.statusCode !== 201 && res.statusCode !== 200) throw new Error(res.body)
}

let seq = Math.floor(Math.random() * 5000)
const uniqueNumber = (): string => `+1312555${String(1000 + (seq++ % 9000)).padStart(4, '0')}`

interface Inbound { eventId?: string, messageId?: string, from?: string, to: string, text?: string, media?: unknown[], autoresponse?: string, eventType?: string }

function inboundEvent (i: Inbound): Record<string, unknown> {
  return {
    data: {
      id: i.eventId ?? randomUUID(),
      event_type: i.eventType ?? 'message.received',
      occurred_at: new Date().toISOString(),
      record_type: 'event',
      payload: {
        id: i.messageId ?? randomUUID(),
        direction: 'inbound',
        type: 'SMS',
        from: { phone_number: i.from ?? '+13125550100', carrier: 'T-Mobile', line_type: 'Wireless' },
        to: [{ phone_number: i.to, status: 'webhook_delivered' }],
        text: i.text ?? 'Hello church',
        media: i.media ?? [],
        errors: [],
        received_at: new Date().toISOString(),
        ...(i.autoresponse !== undefined && { autoresponse_type: i.autoresponse })
      }
    },
    meta: { attempt: 1, delivered_to: 'https://example.org/webhooks/telnyx' }
  }
}

async function postWebhook (app: FastifyInstance, signer: TelnyxSigner, body: unknown, headers: Record<string, string> = {}) {
  const raw = typeof body === 'string' ? body : JSON.stringify(body)
  return await app.inject({
    method: 'POST',
    url: '/webhooks/telnyx',
    headers: { 'content-type': 'application/json', ...signer.sign(raw), ...headers },
    payload: raw
  })
}

async function tenantSql<R = Record<string, unknown>> (app: FastifyInstance, tenantId: string, sql: string, params: unknown[] = []): Promise<R[]> {
  const tenant = await app.registry.tenant.findUniqueOrThrow({ where: { id: tenantId } })
  return await withClient(withDatabase(await testServerUrl(), tenant.databaseName), async (c) => (await c.query(sql, params)).rows as R[])
}

async function telnyxApp (t: { teardown: (fn: () => unknown) => void }, opts: { apiKey?: boolean, publicKey?: boolean } = {}): Promise<{ app: FastifyInstance, signer: TelnyxSigner, fake: FakeTelnyx }> {
  const signer = createTelnyxSigner()
  const fake = await startFakeTelnyx()
  t.teardown(async () => { await fake.close() })
  const env: Record<string, string> = { TELNYX_BASE_URL: fake.baseUrl }
  if (opts.apiKey !== false) env.TELNYX_API_KEY = 'KEY_test_0123456789'
  if (opts.publicKey !== false) env.TELNYX_PUBLIC_KEY = signer.publicKeyBase64
  const app = await build(t, env)
  return { app, signer, fake }
}
// ---------------------------------------------------------------------------------------------------

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
  t.same(inB, [{ optedOut: false, body: 'to B' }], "an opt-out at A does not opt out at B")
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
