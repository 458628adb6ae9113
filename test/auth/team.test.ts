// The team: listing admins, changing roles, removing teammates, and never losing the last owner.
import t from 'tap'
import { build } from '../helper.js'
import { addTeammate, bearer, PASSWORD, signUp } from '../helpers/team.js'

// One app (and registry) for the whole file: each test works in organizations of its own.
const app = await build(t)

t.test('admins list the team; owners change roles, which reach the token at its next refresh', async (t) => {
  const owner = await signUp(app, 'Team Church')
  const admin = await addTeammate(app, owner.accessToken, 'ADMIN')
  const staff = await addTeammate(app, owner.accessToken, 'STAFF')

  const list = await app.inject({ method: 'GET', url: '/api/admins', headers: bearer(admin.accessToken) })
  t.equal(list.statusCode, 200)
  t.same(list.json().admins.map((a: { email: string, role: string }) => [a.email, a.role]), [[owner.email, 'OWNER'], [admin.email, 'ADMIN'], [staff.email, 'STAFF']])

  const staffId = list.json().admins[2].id as string
  const byAdmin = await app.inject({ method: 'PATCH', url: `/api/admins/${staffId}`, headers: bearer(admin.accessToken), payload: { role: 'ADMIN' } })
  t.equal(byAdmin.statusCode, 403, 'only owners change roles')
  const promoted = await app.inject({ method: 'PATCH', url: `/api/admins/${staffId}`, headers: bearer(owner.accessToken), payload: { role: 'ADMIN' } })
  t.equal(promoted.statusCode, 200)
  t.equal(promoted.json().role, 'ADMIN')
  t.equal((await app.inject({ method: 'GET', url: '/api/admins', headers: bearer(staff.accessToken) })).statusCode, 403, 'the old token keeps the old role')
  const refreshed = await app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: staff.refreshToken } })
  t.equal((await app.inject({ method: 'GET', url: '/api/admins', headers: bearer(refreshed.json().accessToken) })).statusCode, 200)
  const bad = await app.inject({ method: 'PATCH', url: `/api/admins/${staffId}`, headers: bearer(owner.accessToken), payload: { role: 'PASTOR' } })
  t.equal(bad.statusCode, 400)
})

t.test('an admin cannot make or remove owners: 403 ROLE_NOT_GRANTABLE', async (t) => {
  const owner = await signUp(app, 'Grant Church')
  const admin = await addTeammate(app, owner.accessToken, 'ADMIN')
  const invite = await app.inject({ method: 'POST', url: '/api/invitations', headers: bearer(admin.accessToken), payload: { email: 'boss@example.org', role: 'OWNER' } })
  t.equal(invite.statusCode, 403)
  t.equal(invite.json().code, 'ROLE_NOT_GRANTABLE')
  const admins = (await app.inject({ method: 'GET', url: '/api/admins', headers: bearer(admin.accessToken) })).json().admins as Array<{ id: string, role: string }>
  const ownerId = admins.find((a) => a.role === 'OWNER')?.id as string
  const remove = await app.inject({ method: 'DELETE', url: `/api/admins/${ownerId}`, headers: bearer(admin.accessToken) })
  t.equal(remove.statusCode, 403)
  t.equal(remove.json().code, 'ROLE_NOT_GRANTABLE')
  t.equal((await app.inject({ method: 'GET', url: '/api/admins', headers: bearer(owner.accessToken) })).json().admins.length, 2, 'nobody was removed')
})

t.test('removing a teammate removes their sign-in everywhere; the last owner stays', async (t) => {
  const owner = await signUp(app, 'Remove Church')
  const staff = await addTeammate(app, owner.accessToken, 'STAFF')
  const admins = (await app.inject({ method: 'GET', url: '/api/admins', headers: bearer(owner.accessToken) })).json().admins as Array<{ id: string, role: string }>
  const [ownerId, staffId] = admins.map((a) => a.id) as [string, string]

  t.equal((await app.inject({ method: 'DELETE', url: `/api/admins/${staffId}`, headers: bearer(owner.accessToken) })).statusCode, 204)
  t.equal(await app.registry.adminEmailIndex.count({ where: { tenantId: owner.tenantId, adminId: staffId } }), 0)
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: staff.email, password: PASSWORD } })).statusCode, 401)
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: staff.refreshToken } })).statusCode, 401)
  t.equal((await app.inject({ method: 'DELETE', url: `/api/admins/${staffId}`, headers: bearer(owner.accessToken) })).statusCode, 404)

  const selfRemove = await app.inject({ method: 'DELETE', url: `/api/admins/${ownerId}`, headers: bearer(owner.accessToken) })
  t.equal(selfRemove.statusCode, 409)
  t.equal(selfRemove.json().code, 'LAST_OWNER')
  const selfDemote = await app.inject({ method: 'PATCH', url: `/api/admins/${ownerId}`, headers: bearer(owner.accessToken), payload: { role: 'ADMIN' } })
  t.equal(selfDemote.json().code, 'LAST_OWNER')
})

t.test('two owners demoting each other at once leave exactly one owner', async (t) => {
  const first = await signUp(app, 'Twin Church')
  const second = await addTeammate(app, first.accessToken, 'OWNER')
  const admins = (await app.inject({ method: 'GET', url: '/api/admins', headers: bearer(first.accessToken) })).json().admins as Array<{ id: string }>
  const [firstId, secondId] = admins.map((a) => a.id) as [string, string]
  const results = await Promise.all([
    app.inject({ method: 'PATCH', url: `/api/admins/${secondId}`, headers: bearer(first.accessToken), payload: { role: 'ADMIN' } }),
    app.inject({ method: 'PATCH', url: `/api/admins/${firstId}`, headers: bearer(second.accessToken), payload: { role: 'ADMIN' } })
  ])
  t.same(results.map((r) => r.statusCode).sort(), [200, 409])
  const after = (await app.inject({ method: 'GET', url: '/api/admins', headers: bearer(first.accessToken) })).json().admins as Array<{ role: string }>
  t.equal(after.filter((a) => a.role === 'OWNER').length, 1)
})
