// Invitations: email-bound, hashed, single-use tokens that expire in 7 days; resend rotates, revoke
// kills, a GET changes nothing, accepting creates the admin and its email index row; an email that
// already administers another organization accepts with its existing password.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build } from '../helper.js'
import { bearer, outboxMail, PASSWORD, signUp, tokensIn, uniqueEmail } from '../helpers/team.js'
import { hashToken } from '../../src/auth/one-time-tokens.js'

// One app (and registry) for the whole file: each test works in organizations of its own.
const app = await build(t)

async function invite (app: FastifyInstance, token: string, email: string, role = 'STAFF') {
  const res = await app.inject({ method: 'POST', url: '/api/invitations', headers: bearer(token), payload: { email, role } })
  return res
}
async function mailedToken (app: FastifyInstance, email: string): Promise<string> {
  const [token] = tokensIn((await outboxMail(app, email)).text, 'Invitation')
  if (token === undefined) throw new Error('no token in the mail')
  return token
}
const accept = async (app: FastifyInstance, token: string, payload: Record<string, unknown> = { password: PASSWORD, firstName: 'New', lastName: 'Person' }) =>
  await app.inject({ method: 'POST', url: `/api/invitations/${token}/accept`, payload })

t.test('invite, open (nothing changes), accept: the admin exists in the tenant and can sign in', async (t) => {
  const owner = await signUp(app, 'Invite Church')
  const email = uniqueEmail('volunteer')
  const created = await invite(app, owner.accessToken, email.toUpperCase())
  t.equal(created.statusCode, 201)
  t.match(created.json(), { email, role: 'STAFF', status: 'pending', acceptedAt: null })
  t.notOk(JSON.stringify(created.json()).includes('token'), 'the token is only mailed')
  const token = await mailedToken(app, email)
  const row = await app.registry.invitation.findFirstOrThrow({ where: { email } })
  t.equal(row.tokenHash, hashToken(token), 'stored hashed')
  t.ok(row.expiresAt.getTime() - Date.now() > 6.9 * 86_400_000, 'valid for 7 days')

  for (let i = 0; i < 2; i++) {
    const opened = await app.inject({ method: 'GET', url: `/api/invitations/${token}` })
    t.equal(opened.statusCode, 200)
    t.match(opened.json(), { organization: 'Invite Church', email, role: 'STAFF', existingAccount: false })
  }
  t.same(await app.registry.invitation.findFirstOrThrow({ where: { email } }), row, 'opening the link changed nothing')

  const accepted = await accept(app, token)
  t.equal(accepted.statusCode, 201, accepted.body)
  t.equal(accepted.json().tenantId, owner.tenantId)
  const admin = await app.pool.withTenant(owner.tenantId, async (db) => await db.admin.findUnique({ where: { email } }))
  t.equal(admin?.role, 'STAFF')
  t.equal(await app.registry.adminEmailIndex.count({ where: { tenantId: owner.tenantId, adminId: admin?.id } }), 1)
  const list = await app.inject({ method: 'GET', url: '/api/invitations', headers: bearer(owner.accessToken) })
  t.equal(list.json().invitations[0].status, 'accepted')
  const again = await accept(app, token)
  t.equal(again.statusCode, 410)
  t.equal(again.json().code, 'INVITATION_INVALID')
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password: PASSWORD } })).statusCode, 200)
})

t.test('resend rotates the token, revoke kills it, expiry ends it; every dead token gets the same 410', async (t) => {
  const owner = await signUp(app, 'Rotate Church')
  const email = uniqueEmail('r')
  const { id } = (await invite(app, owner.accessToken, email)).json()
  const first = await mailedToken(app, email)
  t.equal((await app.inject({ method: 'POST', url: `/api/invitations/${id as string}/resend`, headers: bearer(owner.accessToken) })).statusCode, 200)
  const second = await mailedToken(app, email)
  t.not(first, second)
  const dead = await accept(app, first)
  t.equal(dead.statusCode, 410, 'the old token stopped working')
  t.equal((await app.inject({ method: 'GET', url: `/api/invitations/${first}` })).statusCode, 410)

  t.equal((await app.inject({ method: 'DELETE', url: `/api/invitations/${id as string}`, headers: bearer(owner.accessToken) })).statusCode, 204)
  const revoked = await accept(app, second)
  t.equal(revoked.statusCode, 410)
  t.equal(revoked.json().code, dead.json().code)
  t.equal((await app.inject({ method: 'POST', url: `/api/invitations/${id as string}/resend`, headers: bearer(owner.accessToken) })).json().code, 'INVITATION_NOT_PENDING')

  const other = uniqueEmail('x')
  const late = (await invite(app, owner.accessToken, other)).json()
  const lateToken = await mailedToken(app, other)
  await app.registry.invitation.update({ where: { id: late.id }, data: { expiresAt: new Date(Date.now() - 1000) } })
  const list = (await app.inject({ method: 'GET', url: '/api/invitations', headers: bearer(owner.accessToken) })).json().invitations as Array<{ id: string, status: string }>
  t.same(list.map((i) => i.status).sort(), ['expired', 'revoked'])
  t.equal((await accept(app, lateToken)).json().code, 'INVITATION_INVALID')
  t.equal((await accept(app, 'A'.repeat(43))).json().code, 'INVITATION_INVALID', 'a token that never existed')
  t.equal((await accept(app, 'short')).statusCode, 400, 'a malformed token')
  t.equal(await app.pool.withTenant(owner.tenantId, async (db) => await db.admin.count()), 1, 'no admin was created by a dead token')
})

t.test("another organization's invitation is not found; duplicates and bad input are refused", async (t) => {
  const a = await signUp(app, 'Church A')
  const b = await signUp(app, 'Church B')
  const email = uniqueEmail('d')
  const { id } = (await invite(app, a.accessToken, email)).json()
  t.equal((await app.inject({ method: 'DELETE', url: `/api/invitations/${id as string}`, headers: bearer(b.accessToken) })).statusCode, 404)
  t.equal((await app.inject({ method: 'POST', url: `/api/invitations/${id as string}/resend`, headers: bearer(b.accessToken) })).statusCode, 404)
  t.equal((await app.registry.invitation.findUniqueOrThrow({ where: { id } })).revokedAt, null, 'untouched')
  t.equal((await invite(app, a.accessToken, email)).json().code, 'INVITATION_PENDING')
  t.equal((await invite(app, a.accessToken, a.email)).json().code, 'ALREADY_MEMBER')
  t.equal((await invite(app, a.accessToken, 'not an email')).statusCode, 400)
  t.equal((await invite(app, a.accessToken, uniqueEmail(), 'PASTOR')).statusCode, 400)
})

t.test('an email of another organization accepts with its password and then chooses at login', async (t) => {
  const home = await signUp(app, 'Home Church', { slug: 'home-church' })
  const other = await signUp(app, 'Other Church', { slug: 'other-church' })
  await invite(app, other.accessToken, home.email, 'ADMIN')
  const token = await mailedToken(app, home.email)
  t.equal((await app.inject({ method: 'GET', url: `/api/invitations/${token}` })).json().existingAccount, true)
  const wrong = await accept(app, token, { password: 'not my password at all' })
  t.equal(wrong.statusCode, 401)
  t.equal((await app.registry.invitation.findFirstOrThrow({ where: { tenantId: other.tenantId } })).acceptedAt, null, 'a wrong password consumes nothing')
  t.equal(await app.registry.adminEmailIndex.count({ where: { tenantId: other.tenantId } }), 1)

  const [first, second] = await Promise.all([accept(app, token, { password: PASSWORD }), accept(app, token, { password: PASSWORD })])
  t.same([first.statusCode, second.statusCode].sort(), [201, 410], 'one token, one acceptance')
  const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: home.email, password: PASSWORD } })
  t.equal(login.statusCode, 409)
  t.same(login.json().organizations.map((o: { name: string }) => o.name).sort(), ['Home Church', 'Other Church'])
  const picked = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: home.email, password: PASSWORD, organization: 'other-church' } })
  t.equal(picked.json().tenantId, other.tenantId)
  const me = await app.inject({ method: 'GET', url: '/api/me', headers: bearer(picked.json().accessToken) })
  t.match(me.json().admin, { role: 'ADMIN', firstName: 'Grace' })
})
