// Mail: over SMTP to a real local server when SMTP_URL is set, into the registry outbox (read by the
// operator API) without it; a mail server that is down is a 502 that loses nothing; no token is logged.
import { Writable } from 'node:stream'
import t from 'tap'
import { buildApp } from '../../src/app.js'
import { build, TEST_SECRETS, testConfig } from '../helper.js'
import { bearer, outboxMail, PASSWORD, signUp, smtpSink, tokensIn, uniqueEmail } from '../helpers/team.js'

const operator = { authorization: `Bearer ${TEST_SECRETS.PLATFORM_ADMIN_TOKEN}` }

t.test('with SMTP_URL an invitation is delivered by SMTP from MAIL_FROM, and nothing goes to the outbox', async (t) => {
  const smtp = await smtpSink(t)
  const app = await build(t, { SMTP_URL: smtp.url, MAIL_FROM: 'Grace Office <office@grace.example>' })
  const owner = await signUp(app, 'Mail Church')
  const email = uniqueEmail('smtp')
  t.equal((await app.inject({ method: 'POST', url: '/api/invitations', headers: bearer(owner.accessToken), payload: { email, role: 'ADMIN' } })).statusCode, 201)
  const mail = await smtp.next(email)
  t.match(mail.raw, /^From: Grace Office <office@grace\.example>/m)
  t.match(mail.raw, /^Subject: You are invited to Mail Church/m)
  const [token] = tokensIn(mail.text, 'Invitation')
  t.ok(token, 'the mail carries the token')
  t.ok(mail.text.includes(`/invitations#token=${token ?? ''}`), 'and a link with it')
  t.equal((await app.inject({ method: 'POST', url: `/api/invitations/${token ?? ''}/accept`, payload: { password: PASSWORD, firstName: 'A', lastName: 'B' } })).statusCode, 201)
  const outbox = await app.inject({ method: 'GET', url: '/api/platform/outbox', headers: operator })
  t.same(outbox.json(), { mode: 'smtp', messages: [] })
})

t.test('a mail server that is down: 502 MAIL_SEND_FAILED, the invitation stays and can be resent', async (t) => {
  // Port 1: nothing listens there, so the connection is refused at once.
  const app = await build(t, { SMTP_URL: 'smtp://127.0.0.1:1' })
  const owner = await signUp(app, 'Down Church')
  const email = uniqueEmail('down')
  const res = await app.inject({ method: 'POST', url: '/api/invitations', headers: bearer(owner.accessToken), payload: { email, role: 'STAFF' } })
  t.equal(res.statusCode, 502)
  t.equal(res.json().code, 'MAIL_SEND_FAILED')
  const list = (await app.inject({ method: 'GET', url: '/api/invitations', headers: bearer(owner.accessToken) })).json().invitations
  t.match(list, [{ email, status: 'pending' }])
})

t.test('without SMTP_URL mail is kept in the outbox, for operators only, and no token reaches the logs', async (t) => {
  const lines: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _enc, done) { lines.push(chunk.toString()); done() } })
  const app = await buildApp(await testConfig({ LOG_LEVEL: 'info' }), { logger: { stream } })
  t.teardown(async () => { await app.close() })
  const owner = await signUp(app, 'Quiet Church')
  const email = uniqueEmail('quiet')
  await app.inject({ method: 'POST', url: '/api/invitations', headers: bearer(owner.accessToken), payload: { email, role: 'STAFF' } })
  const mail = await outboxMail(app, email)
  t.equal(mail.subject, 'You are invited to Quiet Church')
  const [token] = tokensIn(mail.text, 'Invitation')
  t.equal((await app.inject({ method: 'GET', url: '/api/platform/outbox' })).statusCode, 401)
  t.equal((await app.inject({ method: 'GET', url: '/api/platform/outbox', headers: bearer(owner.accessToken) })).statusCode, 401)
  t.equal((await app.inject({ method: 'GET', url: `/api/platform/outbox?to=${uniqueEmail()}`, headers: operator })).json().messages.length, 0)
  await app.inject({ method: 'GET', url: `/api/invitations/${token ?? ''}` })
  await app.inject({ method: 'POST', url: `/api/invitations/${token ?? ''}/accept`, payload: { password: PASSWORD, firstName: 'A', lastName: 'B' } })
  const all = lines.join('')
  t.ok(all.includes('/api/invitations/[redacted]'), 'the request was logged, its token redacted')
  t.notOk(all.includes(token ?? 'none'), 'the token appears nowhere in the logs')
})
