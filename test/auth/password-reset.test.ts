// Password reset: the same answer for known and unknown emails, single-use one-hour tokens per
// organization, every session revoked, limits per email and address; changing the password signed in.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build, TEST_SECRETS } from '../helper.js'
import { addTeammate, bearer, outboxMail, PASSWORD, signUp, tokensIn, uniqueEmail } from '../helpers/team.js'

// One app (and registry) for the whole file: each test works in organizations of its own.
const app = await build(t)

const NEW_PASSWORD = 'a brand new password 2024'
const requestReset = async (app: FastifyInstance, payload: Record<string, unknown>, ip = '10.1.0.1') =>
  await app.inject({ method: 'POST', url: '/api/auth/password-reset', payload, remoteAddress: ip })
const confirm = async (app: FastifyInstance, token: string, password = NEW_PASSWORD) =>
  await app.inject({ method: 'POST', url: '/api/auth/password-reset/confirm', payload: { token, password } })
const login = async (app: FastifyInstance, payload: Record<string, unknown>) =>
  await app.inject({ method: 'POST', url: '/api/auth/login', payload })

t.test('known and unknown emails get the same answer; the token resets once and ends every session', async (t) => {
  const owner = await signUp(app, 'Reset Church')
  const unknownEmail = uniqueEmail('ghost')
  const known = await requestReset(app, { email: owner.email })
  const unknown = await requestReset(app, { email: unknownEmail })
  t.equal(known.statusCode, 202)
  t.same({ ...unknown.json(), requestId: 0 }, { ...known.json(), requestId: 0 })
  t.equal(unknown.statusCode, 202)
  await app.passwordReset.drain()
  t.equal((await app.inject({ method: 'GET', url: `/api/platform/outbox?to=${unknownEmail}`, headers: { authorization: `Bearer ${TEST_SECRETS.PLATFORM_ADMIN_TOKEN}` } })).json().messages.length, 0, 'nothing is sent to an unknown email')
  const [token] = tokensIn((await outboxMail(app, owner.email)).text, 'Reset')
  const row = await app.registry.passwordResetToken.findFirstOrThrow({ where: { tenantId: owner.tenantId } })
  t.ok(Math.abs(row.expiresAt.getTime() - Date.now() - 3_600_000) < 60_000, 'valid for one hour')

  t.equal((await confirm(app, token ?? '')).statusCode, 204)
  t.equal((await login(app, { email: owner.email, password: PASSWORD })).statusCode, 401, 'the old password is gone')
  t.equal((await login(app, { email: owner.email, password: NEW_PASSWORD })).statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: owner.refreshToken } })).statusCode, 401, 'sessions revoked')
  const reused = await confirm(app, token ?? '', 'yet another password here')
  t.equal(reused.statusCode, 410)
  t.equal(reused.json().code, 'RESET_TOKEN_INVALID')
  t.equal((await confirm(app, 'B'.repeat(43))).json().code, 'RESET_TOKEN_INVALID', 'a token that never existed')
  t.equal((await confirm(app, 'short')).statusCode, 400)
  t.equal((await confirm(app, 'C'.repeat(43), 'short')).statusCode, 400, 'a short password')
  t.equal((await requestReset(app, { email: 'not-an-email' })).statusCode, 400)
})

t.test('expired tokens, and tokens sent to an address the admin no longer has, change nothing', async (t) => {
  const owner = await signUp(app, 'Expiry Church')
  await requestReset(app, { email: owner.email })
  await app.passwordReset.drain()
  const [token] = tokensIn((await outboxMail(app, owner.email)).text, 'Reset')
  await app.registry.passwordResetToken.updateMany({ data: { expiresAt: new Date(Date.now() - 1000) } })
  t.equal((await confirm(app, token ?? '')).statusCode, 410)

  await requestReset(app, { email: owner.email }, '10.1.0.2')
  await app.passwordReset.drain()
  const [second] = tokensIn((await outboxMail(app, owner.email)).text, 'Reset')
  await app.pool.withTenant(owner.tenantId, async (db) => await db.admin.updateMany({ data: { email: 'moved@example.org' } }))
  t.equal((await confirm(app, second ?? '')).statusCode, 410)
  await app.pool.withTenant(owner.tenantId, async (db) => await db.admin.updateMany({ data: { email: owner.email } }))
  t.equal((await login(app, { email: owner.email, password: PASSWORD })).statusCode, 200, 'the password is unchanged')
})

t.test('an email with several organizations gets one link each, or just the chosen one, and resets only that one', async (t) => {
  const a = await signUp(app, 'Alpha Church', { slug: 'alpha-church' })
  const b = await signUp(app, 'Beta Church', { slug: 'beta-church' })
  const shared = await addTeammate(app, a.accessToken, 'ADMIN')
  await app.inject({ method: 'POST', url: '/api/invitations', headers: bearer(b.accessToken), payload: { email: shared.email, role: 'STAFF' } })
  const [inviteToken] = tokensIn((await outboxMail(app, shared.email)).text, 'Invitation')
  t.equal((await app.inject({ method: 'POST', url: `/api/invitations/${inviteToken ?? ''}/accept`, payload: { password: PASSWORD } })).statusCode, 201)

  await requestReset(app, { email: shared.email })
  await app.passwordReset.drain()
  const both = await outboxMail(app, shared.email)
  t.equal(tokensIn(both.text, 'Reset').length, 2)
  t.match(both.text, /Alpha Church/)
  t.match(both.text, /Beta Church/)

  await requestReset(app, { email: shared.email, organization: 'beta-church' }, '10.1.0.3')
  await app.passwordReset.drain()
  const chosen = tokensIn((await outboxMail(app, shared.email)).text, 'Reset')
  t.equal(chosen.length, 1)
  t.equal((await confirm(app, chosen[0] ?? '')).statusCode, 204)
  t.equal((await login(app, { email: shared.email, password: NEW_PASSWORD, organization: 'beta-church' })).statusCode, 200)
  t.equal((await login(app, { email: shared.email, password: PASSWORD, organization: 'alpha-church' })).statusCode, 200, 'the other organization keeps its password')
})

t.test('requests are limited per email and per address (429)', async (t) => {
  const email = uniqueEmail('limit')
  const perEmail = []
  for (let i = 0; i < 6; i++) perEmail.push((await requestReset(app, { email }, `10.2.0.${i}`)).statusCode)
  t.same(perEmail, [202, 202, 202, 202, 202, 429])
  const perIp = []
  for (let i = 0; i < 31; i++) perIp.push((await requestReset(app, { email: uniqueEmail('ip') }, '10.3.0.1')).statusCode)
  t.equal(perIp.filter((s) => s === 429).length, 1, 'the 31st from one address is refused')
  t.equal(perIp.at(-1), 429)
  await app.passwordReset.drain()
})

t.test('changing the password signed in needs the current one and ends the other sessions', async (t) => {
  const owner = await signUp(app, 'Change Church')
  const wrong = await app.inject({ method: 'POST', url: '/api/account/password', headers: bearer(owner.accessToken), payload: { currentPassword: 'not it', newPassword: NEW_PASSWORD } })
  t.equal(wrong.statusCode, 403)
  t.equal(wrong.json().code, 'INVALID_CURRENT_PASSWORD')
  const changed = await app.inject({ method: 'POST', url: '/api/account/password', headers: bearer(owner.accessToken), payload: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD } })
  t.equal(changed.statusCode, 200)
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: owner.refreshToken } })).statusCode, 401)
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: changed.json().refreshToken } })).statusCode, 200)
  t.equal((await login(app, { email: owner.email, password: NEW_PASSWORD })).statusCode, 200)
})
