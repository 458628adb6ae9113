import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { assignNumber, inboundEvent, postWebhook, signup, telnyxApp, tenantSql, uniqueNumber } from '../../helpers/messaging-fixture.js'

async function inbox (t: { teardown: (fn: () => unknown) => void }, opts: { apiKey?: boolean } = {}) {
  const { app, signer, fake } = await telnyxApp(t, opts)
  const org = await signup(app)
  const number = uniqueNumber()
  await assignNumber(app, org, number)
  return { app, signer, fake, org, number }
}

const conversationId = async (app: FastifyInstance, tenantId: string, phone: string): Promise<string> =>
  String((await tenantSql(app, tenantId, 'SELECT c.id FROM "Conversation" c JOIN "Member" m ON m.id = c."memberId" WHERE m.phone = $1', [phone]))[0]?.id)

t.test('conversations list newest activity first with unread counts and cursor pages', async (t) => {
  const { app, signer, org, number } = await inbox(t)
  const phones = ['+13125550301', '+13125550302', '+13125550303', '+13125550304', '+13125550305']
  for (const [i, from] of phones.entries()) {
    for (let k = 0; k <= i % 2; k++) await postWebhook(app, signer, inboundEvent({ to: number, from, text: `from ${from} #${k}` }))
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  const seen: Array<{ member: { phone: string }, unreadCount: number, lastMessagePreview: string }> = []
  let cursor: string | null = null
  let pages = 0
  do {
    const res = await app.inject({ method: 'GET', url: `/api/conversations?limit=2${cursor === null ? '' : `&cursor=${cursor}`}`, headers: org.auth })
    t.equal(res.statusCode, 200, res.body)
    const body = res.json() as { conversations: typeof seen, nextCursor: string | null }
    t.ok(body.conversations.length <= 2)
    seen.push(...body.conversations)
    cursor = body.nextCursor
    pages++
  } while (cursor !== null && pages < 10)
  t.equal(pages, 3)
  t.same(seen.map((c) => c.member.phone), [...phones].reverse(), 'newest first, each once')
  t.same(seen.map((c) => c.unreadCount), [1, 2, 1, 2, 1])
  t.equal(seen[0]?.lastMessagePreview, 'from +13125550305 #0')
  const bad = await app.inject({ method: 'GET', url: '/api/conversations?cursor=nonsense', headers: org.auth })
  t.equal(bad.statusCode, 400)
})

t.test('messages are paginated newest first; reading clears the unread count', async (t) => {
  const { app, signer, org, number } = await inbox(t)
  for (let i = 0; i < 5; i++) {
    await postWebhook(app, signer, inboundEvent({ to: number, from: '+13125550310', text: `m${i}` }))
    await new Promise((resolve) => setTimeout(resolve, 5))
  }
  const id = await conversationId(app, org.tenantId, '+13125550310')
  const page1 = await app.inject({ method: 'GET', url: `/api/conversations/${id}/messages?limit=3`, headers: org.auth })
  t.equal(page1.statusCode, 200, page1.body)
  t.same(page1.json().messages.map((m: { body: string }) => m.body), ['m4', 'm3', 'm2'])
  const page2 = await app.inject({ method: 'GET', url: `/api/conversations/${id}/messages?limit=3&cursor=${String(page1.json().nextCursor)}`, headers: org.auth })
  t.same(page2.json().messages.map((m: { body: string }) => m.body), ['m1', 'm0'])
  t.equal(page2.json().nextCursor, null)

  const read = await app.inject({ method: 'POST', url: `/api/conversations/${id}/read`, headers: org.auth })
  t.equal(read.statusCode, 200, read.body)
  t.same(read.json(), { id, unreadCount: 0 })
  const unread = await tenantSql(app, org.tenantId, 'SELECT count(*)::int AS n FROM "ConversationMessage" WHERE "readAt" IS NULL')
  t.equal(unread[0]?.n, 0, 'readAt set on every inbound message')
  const list = await app.inject({ method: 'GET', url: '/api/conversations', headers: org.auth })
  t.equal(list.json().conversations[0].unreadCount, 0)
})

t.test('a reply goes through Telnyx from the primary number and is recorded', async (t) => {
  const { app, signer, fake, org, number } = await inbox(t)
  await postWebhook(app, signer, inboundEvent({ to: number, from: '+13125550320', text: 'Can I get a ride?' }))
  const id = await conversationId(app, org.tenantId, '+13125550320')
  for (const text of ['', 'x'.repeat(1601)]) {
    const res = await app.inject({ method: 'POST', url: `/api/conversations/${id}/messages`, headers: org.auth, payload: { text } })
    t.equal(res.statusCode, 400, `length ${text.length}`)
  }
  const res = await app.inject({ method: 'POST', url: `/api/conversations/${id}/messages`, headers: org.auth, payload: { text: 'Yes, at 9:30' } })
  t.equal(res.statusCode, 201, res.body)
  t.equal(fake.sent.length, 1)
  t.match(fake.sent[0]?.body, { from: number, to: '+13125550320', text: 'Yes, at 9:30' })
  t.match(res.json(), { direction: 'OUTBOUND', body: 'Yes, at 9:30', providerMessageId: fake.sent[0]?.id, fromNumber: number, toNumber: '+13125550320' })
  const [conversation] = await tenantSql(app, org.tenantId, 'SELECT "lastMessagePreview", "unreadCount" FROM "Conversation"')
  t.same(conversation, { lastMessagePreview: 'Yes, at 9:30', unreadCount: 1 })

  // A carrier refusal reaches the caller as itself: 502 SMS_SEND_FAILED, not a generic 500.
  fake.failNext(400)
  const refused = await app.inject({ method: 'POST', url: `/api/conversations/${id}/messages`, headers: org.auth, payload: { text: 'Again?' } })
  t.equal(refused.statusCode, 502, refused.body)
  t.equal(refused.json().code, 'SMS_SEND_FAILED')

  // Without a number there is nothing to send from.
  await app.inject({ method: 'DELETE', url: `/api/phone-numbers/${encodeURIComponent(number)}`, headers: org.auth })
  const none = await app.inject({ method: 'POST', url: `/api/conversations/${id}/messages`, headers: org.auth, payload: { text: 'Hello?' } })
  t.equal(none.statusCode, 409)
  t.equal(none.json().code, 'NO_SENDING_NUMBER')
  t.equal(fake.sent.length, 1)
})

t.test("another organization's conversation is not found", async (t) => {
  const { app, signer, org, number } = await inbox(t)
  const other = await signup(app, 'Other Church')
  await postWebhook(app, signer, inboundEvent({ to: number, from: '+13125550330' }))
  const id = await conversationId(app, org.tenantId, '+13125550330')
  const requests = [
    { method: 'GET' as const, url: `/api/conversations/${id}/messages` },
    { method: 'POST' as const, url: `/api/conversations/${id}/messages`, payload: { text: 'hi' } },
    { method: 'POST' as const, url: `/api/conversations/${id}/read` }
  ]
  for (const r of requests) {
    const res = await app.inject({ ...r, headers: other.auth })
    t.equal(res.statusCode, 404, `${r.method} ${r.url}`)
  }
  const list = await app.inject({ method: 'GET', url: '/api/conversations', headers: other.auth })
  t.same(list.json().conversations, [])
})

t.test('without TELNYX_API_KEY a reply is recorded locally as sent', async (t) => {
  const { app, signer, fake, org, number } = await inbox(t, { apiKey: false })
  await postWebhook(app, signer, inboundEvent({ to: number, from: '+13125550340' }))
  const id = await conversationId(app, org.tenantId, '+13125550340')
  const res = await app.inject({ method: 'POST', url: `/api/conversations/${id}/messages`, headers: org.auth, payload: { text: 'Welcome!' } })
  t.equal(res.statusCode, 201, res.body)
  t.equal(fake.requestCount, 0)
  const local = app.telnyx.sender.localOutbox()
  t.equal(local.length, 1)
  t.match(res.json(), { providerMessageId: local[0]?.providerMessageId, status: 'sent' })
})
