import t from 'tap'
import { assignNumber, inboundEvent, postWebhook, signup, telnyxApp, tenantSql, uniqueNumber } from '../helpers/messaging-fixture.js'
import { build } from '../helper.js'
import { cleanStrings, cleanText, findUnstorable, isStorable } from '../../src/util/storable-text.js'

const BAD = ['a\u0000b', 'lone \ud800 high', 'lone \udc00 low']

t.test('storable text: NUL and unpaired surrogates are found, paired surrogates (emoji) are fine', async (t) => {
  t.ok(isStorable('Praise 🙏 é'))
  for (const text of BAD) t.notOk(isStorable(text), JSON.stringify(text))
  t.equal(findUnstorable({ a: [1, { b: 'x\u0000' }] }, 'body'), 'body.a[1].b')
  t.equal(findUnstorable({ 'k\u0000': 1 }, 'body'), 'body')
  t.equal(findUnstorable({ a: ['fine', 2, null] }, 'body'), undefined)
  t.equal(cleanText('a\u0000b\ud800c'), 'ab\ufffdc')
  t.same(cleanStrings({ 'k\u0000': ['x\udc00'] }), { k: ['x\ufffd'] })
  // Nesting deeper than the call stack is walked without overflowing it.
  let deep: unknown = 'x\u0000'
  for (let i = 0; i < 100_000; i++) deep = [deep]
  t.ok(findUnstorable(deep, 'body')?.startsWith('body[0][0]'))
})

// Each of these answered 500 before the guard: the text reached a query (or a lookup by id) and
// PostgreSQL refused it.
t.test('every route refuses such text with 400 UNSTORABLE_TEXT and writes nothing', async (t) => {
  const app = await build(t)
  const org = await signup(app)
  const requests: Array<{ method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: Record<string, unknown> }> = []
  for (const bad of BAD) {
    requests.push(
      { method: 'POST', url: '/api/branches', payload: { name: bad } },
      { method: 'POST', url: '/api/templates', payload: { name: 'T', body: bad } },
      { method: 'POST', url: '/api/templates/preview', payload: { body: bad } },
      { method: 'POST', url: '/api/members', payload: { firstName: bad, lastName: 'L', phone: '+13125550142' } },
      { method: 'POST', url: '/api/auth/login', payload: { email: 'a@example.org', password: bad } },
      { method: 'GET', url: `/api/members?search=${encodeURIComponent(bad.replace(/[\ud800-\udfff]/g, ''))}%00` }
    )
  }
  for (const id of ['a%00b', 'x%00']) {
    for (const path of ['members', 'branches', 'templates', 'messages', 'recurring-messages']) requests.push({ method: 'GET', url: `/api/${path}/${id}` })
    requests.push({ method: 'DELETE', url: `/api/members/${id}` }, { method: 'PATCH', url: `/api/templates/${id}`, payload: { name: 'x' } })
    requests.push({ method: 'POST', url: `/api/messages/${id}/cancel` })
  }
  for (const request of requests) {
    const res = await app.inject({ ...request, headers: org.auth })
    t.equal(res.statusCode, 400, `${request.method} ${request.url} ${JSON.stringify(request.payload)}`)
    t.equal(res.json().code, 'UNSTORABLE_TEXT')
  }
  for (const table of ['Branch', 'MessageTemplate', 'Member']) {
    const [row] = await tenantSql<{ n: number }>(app, org.tenantId, `SELECT count(*)::int AS n FROM "${table}"`)
    t.equal(row?.n, 0, `nothing written to ${table}`)
  }
})

t.test('carrier text with NUL or broken surrogates is cleaned and stored, not refused', async (t) => {
  const { app, signer } = await telnyxApp(t)
  const org = await signup(app)
  const number = uniqueNumber()
  await assignNumber(app, org, number)
  const res = await postWebhook(app, signer, inboundEvent({ to: number, text: 'See\u0000 you \ud83d Sunday 🙏', messageId: 'msg-\u0000nul' }))
  t.equal(res.statusCode, 200, res.body)
  const [message] = await tenantSql<{ body: string, providerMessageId: string }>(app, org.tenantId, 'SELECT body, "providerMessageId" FROM "ConversationMessage"')
  t.equal(message?.body, 'See you \ufffd Sunday 🙏')
  t.equal(message?.providerMessageId, 'msg-nul')
})
