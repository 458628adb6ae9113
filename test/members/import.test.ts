import t from 'tap'
import { build, registerOrganization } from '../helper.js'

async function signUp (app: Awaited<ReturnType<typeof build>>) {
  const res = await registerOrganization(app)
  return { authorization: `Bearer ${res.json().accessToken as string}` }
}

t.test('CSV import merges by phone, keeps opt-outs, reports row errors', async (t) => {
  const app = await build(t)
  const headers = await signUp(app)
  const existing = (await app.inject({ method: 'POST', url: '/api/members', headers, payload: { firstName: 'Ann', phone: '+13125550101' } })).json()
  await app.inject({ method: 'POST', url: '/api/branches', headers, payload: { name: 'Choir' } })
  await app.inject({ method: 'POST', url: `/api/branches/${(await app.inject({ url: '/api/branches', headers })).json()[0].id as string}/members`, headers, payload: { memberIds: [existing.id] } })
  await app.pool.withTenant((await app.inject({ url: '/api/me', headers })).json().tenant.id, async (db) => {
    await db.member.update({ where: { id: existing.id }, data: { optedOut: true } })
  })
  const csv = 'First Name,Last Name,Mobile,Groups\n' +
    'Ann,Lee,(312) 555-0101,Youth\n' +
    'Bob,Ray,312.555.0102,Youth;Choir\n' +
    'Bad,Row,12345,\n' +
    'Bob,,+1 312 555 0102,Men\n'
  const res = await app.inject({ method: 'POST', url: '/api/members/import', headers: { ...headers, 'content-type': 'text/csv' }, payload: csv })
  t.equal(res.statusCode, 200, res.body)
  t.match(res.json(), { created: 1, updated: 1, skipped: 1, errors: [{ line: 4 }] })
  const ann = (await app.inject({ url: `/api/members/${existing.id as string}`, headers })).json()
  t.equal(ann.lastName, 'Lee', 'blank filled')
  t.equal(ann.optedOut, true, 'opted-out member stays opted out')
  t.equal(ann.branchIds.length, 2, 'branches united')
  const branches = (await app.inject({ url: '/api/branches', headers })).json().map((b: { name: string, memberCount: number }) => `${b.name}:${b.memberCount}`)
  t.same(branches, ['Choir:2', 'Men:1', 'Youth:2'])
})

t.test('10,000 rows import in one request within seconds', async (t) => {
  const app = await build(t)
  const headers = await signUp(app)
  const lines = ['name,phone,group']
  for (let i = 0; i < 10_000; i++) lines.push(`Member ${i},+1312${String(2000000 + i)},${i % 2 === 0 ? 'Even' : 'Odd'}`)
  const res = await app.inject({ method: 'POST', url: '/api/members/import', headers: { ...headers, 'content-type': 'text/csv' }, payload: lines.join('\n') })
  t.equal(res.statusCode, 200, res.body.slice(0, 300))
  t.equal(res.json().created, 10_000)
  const again = await app.inject({ method: 'POST', url: '/api/members/import', headers: { ...headers, 'content-type': 'text/csv' }, payload: lines.join('\n') })
  t.match(again.json(), { created: 0, updated: 10_000 })
})
