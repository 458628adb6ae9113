import t from 'tap'
import { build, registerOrganization } from '../helper.js'

async function signUp (app: Awaited<ReturnType<typeof build>>) {
  const res = await registerOrganization(app)
  const out = res.json()
  return { tenantId: out.tenantId as string, headers: { authorization: `Bearer ${out.accessToken as string}` } }
}

t.test('members: E.164, duplicates 409, search, cursor pages, update, delete', async (t) => {
  const app = await build(t)
  const { headers } = await signUp(app)
  const bad = await app.inject({ method: 'POST', url: '/api/members', headers, payload: { firstName: 'A', phone: 'call me' } })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().code, 'INVALID_PHONE')
  const made = await app.inject({ method: 'POST', url: '/api/members', headers, payload: { firstName: 'Ann', lastName: 'Lee', phone: '(312) 555-0101' } })
  t.equal(made.statusCode, 201, made.body)
  t.equal(made.json().phone, '+13125550101')
  const dup = await app.inject({ method: 'POST', url: '/api/members', headers, payload: { firstName: 'Dup', phone: '+1 312 555 0101' } })
  t.equal(dup.statusCode, 409)
  for (let i = 2; i <= 6; i++) {
    await app.inject({ method: 'POST', url: '/api/members', headers, payload: { firstName: `Bob${i}`, lastName: 'Smith', phone: `+1312555010${i}` } })
  }
  const byName = await app.inject({ url: '/api/members?search=smi', headers })
  t.equal(byName.json().items.length, 5)
  const byPhone = await app.inject({ url: '/api/members?search=5550101', headers })
  t.same(byPhone.json().items.map((m: { firstName: string }) => m.firstName), ['Ann'])
  const seen: string[] = []
  let cursor: string | null = null
  do {
    const page: { items: Array<{ id: string }>, nextCursor: string | null } = (await app.inject({ url: `/api/members?limit=2${cursor !== null ? `&cursor=${cursor}` : ''}`, headers })).json()
    seen.push(...page.items.map((m) => m.id))
    cursor = page.nextCursor
  } while (cursor !== null)
  t.equal(new Set(seen).size, 6, 'cursor pages cover every member once')
  const id = made.json().id as string
  const patched = await app.inject({ method: 'PATCH', url: `/api/members/${id}`, headers, payload: { lastName: 'Li', phone: '312-555-0199' } })
  t.match(patched.json(), { lastName: 'Li', phone: '+13125550199' })
  t.equal((await app.inject({ method: 'DELETE', url: `/api/members/${id}`, headers })).statusCode, 204)
  t.equal((await app.inject({ url: `/api/members/${id}`, headers })).statusCode, 404)
  t.equal((await app.inject({ url: '/api/members' })).statusCode, 401)
})
