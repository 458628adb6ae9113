import t from 'tap'
import { build, registerOrganization } from '../helper.js'

async function signUp (app: Awaited<ReturnType<typeof build>>) {
  const res = await registerOrganization(app)
  return { authorization: `Bearer ${res.json().accessToken as string}` }
}

t.test('branches: CRUD and a member in several branches', async (t) => {
  const app = await build(t)
  const headers = await signUp(app)
  const youth = (await app.inject({ method: 'POST', url: '/api/branches', headers, payload: { name: 'Youth' } })).json()
  const choir = (await app.inject({ method: 'POST', url: '/api/branches', headers, payload: { name: 'Choir', description: 'Sings' } })).json()
  t.equal((await app.inject({ method: 'POST', url: '/api/branches', headers, payload: { name: 'Youth' } })).statusCode, 409)
  const m = (await app.inject({ method: 'POST', url: '/api/members', headers, payload: { firstName: 'Ann', phone: '+13125550101' } })).json()
  const m2 = (await app.inject({ method: 'POST', url: '/api/members', headers, payload: { firstName: 'Bo', phone: '+13125550102' } })).json()
  const added = await app.inject({ method: 'POST', url: `/api/branches/${youth.id as string}/members`, headers, payload: { memberIds: [m.id, m2.id] } })
  t.equal(added.json().memberCount, 2)
  await app.inject({ method: 'POST', url: `/api/branches/${choir.id as string}/members`, headers, payload: { memberIds: [m.id] } })
  t.same((await app.inject({ url: `/api/members/${m.id as string}`, headers })).json().branchIds.sort(), [youth.id, choir.id].sort())
  const removed = await app.inject({ method: 'DELETE', url: `/api/branches/${youth.id as string}/members`, headers, payload: { memberIds: [m2.id] } })
  t.equal(removed.json().memberCount, 1)
  t.equal((await app.inject({ method: 'POST', url: `/api/branches/${youth.id as string}/members`, headers, payload: { memberIds: ['nope'] } })).statusCode, 400)
  const renamed = await app.inject({ method: 'PATCH', url: `/api/branches/${choir.id as string}`, headers, payload: { name: 'Choir A' } })
  t.equal(renamed.json().name, 'Choir A')
  t.equal((await app.inject({ method: 'DELETE', url: `/api/branches/${choir.id as string}`, headers })).statusCode, 204)
  t.same((await app.inject({ url: '/api/branches', headers })).json().map((b: { name: string }) => b.name), ['Youth'])
})
