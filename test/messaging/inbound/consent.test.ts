import t from 'tap'
import type { FastifyInstance } from 'fastify'
import type { TelnyxSigner } from '../../helpers/telnyx-signer.js'
import { assertCanMessage, filterOptedOut } from '../../../src/messaging/inbound/consent.js'
import type { FakeTelnyx } from '../../helpers/fake-telnyx.js'
import { assignNumber, inboundEvent, postWebhook, signup, telnyxApp, tenantSql, uniqueNumber, type Inbound, type Org } from '../../helpers/messaging-fixture.js'

interface Setup { app: FastifyInstance, signer: TelnyxSigner, fake: FakeTelnyx, org: Org, number: string }

async function setup (t: { teardown: (fn: () => unknown) => void }, opts: { apiKey?: boolean } = {}): Promise<Setup> {
  const { app, signer, fake } = await telnyxApp(t, opts)
  const org = await signup(app, 'Grace Chapel')
  const number = uniqueNumber()
  await assignNumber(app, org, number)
  return { app, signer, fake, org, number }
}

const MEMBER = '+13125550177'
const text = async (s: Setup, body: string, extra: Partial<Inbound> = {}) =>
  await postWebhook(s.app, s.signer, inboundEvent({ to: s.number, from: MEMBER, text: body, ...extra }))
const logs = async (s: Setup) => await tenantSql(s.app, s.org.tenantId, 'SELECT event, source, keyword, "rawText", "providerMessageId", "providerEventId" FROM "ConsentLog" ORDER BY "createdAt"')
const member = async (s: Setup) => (await tenantSql(s.app, s.org.tenantId, 'SELECT id, "optedOut", "optedOutAt" FROM "Member" WHERE phone = $1', [MEMBER]))[0]
const outbound = async (s: Setup) => await tenantSql(s.app, s.org.tenantId, 'SELECT body, "providerMessageId", "fromNumber", "toNumber", status FROM "ConversationMessage" WHERE direction = \'OUTBOUND\' ORDER BY "createdAt"')

t.test('STOP opts out, logs, confirms once; repeats and duplicate webhooks do nothing more', async (t) => {
  const s = await setup(t)
  const stop = inboundEvent({ to: s.number, from: MEMBER, text: '  stop! ', messageId: 'in-stop-1', eventId: 'evt-stop-1' })
  const res = await postWebhook(s.app, s.signer, stop)
  t.equal(res.statusCode, 200, res.body)
  const m = await member(s)
  t.equal(m?.optedOut, true)
  t.ok(m?.optedOutAt instanceof Date)
  t.same(await logs(s), [{ event: 'OPT_OUT', source: 'sms', keyword: 'STOP', rawText: '  stop! ', providerMessageId: 'in-stop-1', providerEventId: 'evt-stop-1' }])
  t.equal(s.fake.sent.length, 1, 'one confirmation')
  t.match(s.fake.sent[0]?.body, { from: s.number, to: MEMBER, text: /unsubscribed from Grace Chapel/ })
  t.same(await outbound(s), [{ body: s.fake.sent[0]?.body.text, providerMessageId: s.fake.sent[0]?.id, fromNumber: s.number, toNumber: MEMBER, status: 'sent' }])

  await postWebhook(s.app, s.signer, stop)
  await postWebhook(s.app, s.signer, { ...stop, data: { ...(stop.data as object), id: 'evt-stop-retry' } })
  await text(s, 'QUIT')
  await text(s, 'Unsubscribe.')
  t.equal(s.fake.sent.length, 1, 'no second confirmation')
  t.equal((await logs(s)).length, 1, 'nothing new logged while already opted out')
})

t.test('every opt-out synonym is recognized as the whole message only', async (t) => {
  const s = await setup(t)
  for (const [i, word] of ['STOPALL', 'unsubscribe', 'Cancel', 'END', 'quit', 'stop'].entries()) {
    const from = `+1312555020${i}`
    await postWebhook(s.app, s.signer, inboundEvent({ to: s.number, from, text: word }))
    const [row] = await tenantSql(s.app, s.org.tenantId, 'SELECT "optedOut" FROM "Member" WHERE phone = $1', [from])
    t.equal(row?.optedOut, true, word)
  }
  await text(s, 'please stop texting me at night')
  t.equal((await member(s))?.optedOut, false, 'a sentence is a conversation, not an opt-out')
  t.equal(s.fake.sent.length, 6)
})

t.test('START, UNSTOP and YES opt back in with a confirmation; HELP answers with the organization name', async (t) => {
  const s = await setup(t)
  await text(s, 'STOP')
  const start = await text(s, 'Start')
  t.equal(start.statusCode, 200)
  t.equal((await member(s))?.optedOut, false)
  t.equal(s.fake.sent.length, 2)
  t.match(s.fake.sent[1]?.body.text, /subscribed to Grace Chapel messages again/)
  await text(s, 'UNSTOP')
  t.equal(s.fake.sent.length, 2, 'already subscribed: nothing to confirm')
  await text(s, 'end')
  await text(s, 'yes')
  t.equal((await member(s))?.optedOut, false)
  t.same((await logs(s)).map((l) => `${String(l.event)}:${String(l.keyword)}`), ['OPT_OUT:STOP', 'OPT_IN:START', 'OPT_OUT:END', 'OPT_IN:YES'])

  const help = await text(s, 'help')
  t.equal(help.statusCode, 200)
  const last = s.fake.sent.at(-1)
  t.match(last?.body.text, /Grace Chapel/)
  t.match(last?.body.text, /STOP/)
  await text(s, 'INFO')
  t.equal((await logs(s)).filter((l) => l.event === 'HELP').length, 2)
  t.equal(s.fake.sent.length, 6)
})

t.test('when Telnyx already answered the keyword, the change is recorded without a second answer', async (t) => {
  const s = await setup(t)
  await text(s, 'STOP', { autoresponse: 'stop' })
  t.equal((await member(s))?.optedOut, true)
  t.equal((await logs(s)).length, 1)
  await text(s, 'HELP', { autoresponse: 'help' })
  t.equal((await logs(s)).length, 2)
  t.equal(s.fake.sent.length, 0)
  t.equal((await outbound(s)).length, 0)
})

t.test('an opted-out member cannot be replied to: 409 MEMBER_OPTED_OUT and nothing is sent', async (t) => {
  const s = await setup(t)
  await text(s, 'Hi')
  await text(s, 'STOP')
  const sentBefore = s.fake.requestCount
  const [conversation] = await tenantSql<{ id: string }>(s.app, s.org.tenantId, 'SELECT id FROM "Conversation"')
  const res = await s.app.inject({ method: 'POST', url: `/api/conversations/${conversation?.id ?? ''}/messages`, headers: s.org.auth, payload: { text: 'Are you sure?' } })
  t.equal(res.statusCode, 409)
  t.equal(res.json().code, 'MEMBER_OPTED_OUT')
  t.equal(s.fake.requestCount, sentBefore, 'no request reached Telnyx')
  t.equal((await outbound(s)).length, 1, 'only the STOP confirmation')

  // The same gate for every outbound path.
  const m = await member(s)
  await s.app.pool.withTenant(s.org.tenantId, async (db) => {
    await t.rejects(assertCanMessage(db, MEMBER), { code: 'MEMBER_OPTED_OUT' })
    await t.rejects(assertCanMessage(db, String(m?.id)), { code: 'MEMBER_OPTED_OUT' })
    await t.resolves(assertCanMessage(db, '+13125550000'))
    const split = await filterOptedOut(db, [{ memberId: String(m?.id), phone: MEMBER }, { phone: '+13125550001' }, { memberId: null, phone: MEMBER }])
    t.same(split.allowed, [{ phone: '+13125550001' }])
    t.equal(split.excluded.length, 2)
  })
})

t.test('without TELNYX_API_KEY the confirmation is recorded locally as sent', async (t) => {
  const s = await setup(t, { apiKey: false })
  await text(s, 'STOP')
  t.equal(s.fake.requestCount, 0)
  const local = s.app.telnyx.sender.localOutbox()
  t.equal(local.length, 1)
  t.match(local[0], { from: s.number, to: MEMBER, providerMessageId: /^local-/ })
  t.match(await outbound(s), [{ providerMessageId: local[0]?.providerMessageId, status: 'sent' }])
})
