import t from 'tap'
import { build, registerOrganization } from '../../helper.js'

t.test('templates: unknown merge fields refused, CRUD, preview with segments', async (t) => {
  const app = await build(t)
  const res = await registerOrganization(app)
  const headers = { authorization: `Bearer ${res.json().accessToken as string}` }
  const bad = await app.inject({ method: 'POST', url: '/api/templates', headers, payload: { name: 'x', body: 'Hi {{nickname}} {{age}} {{firstName}}' } })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().code, 'UNKNOWN_MERGE_FIELDS')
  t.match(bad.json().message, /nickname, age/)
  const made = await app.inject({ method: 'POST', url: '/api/templates', headers, payload: { name: 'Welcome', body: 'Hi {{firstName}} {{lastName}}, welcome to {{churchName}}!' } })
  t.equal(made.statusCode, 201)
  const id = made.json().id as string
  t.equal((await app.inject({ method: 'PATCH', url: `/api/templates/${id}`, headers, payload: { body: '{{x}}' } })).statusCode, 400)
  const member = (await app.inject({ method: 'POST', url: '/api/members', headers, payload: { firstName: 'Ann', lastName: 'Lee', phone: '+13125550101' } })).json()
  const preview = await app.inject({ method: 'POST', url: '/api/templates/preview', headers, payload: { templateId: id, memberId: member.id } })
  t.match(preview.json(), { text: 'Hi Ann Lee, welcome to First Church!', encoding: 'GSM-7', segments: 1 })
  const emoji = await app.inject({ method: 'POST', url: '/api/templates/preview', headers, payload: { body: `${'🙏'.repeat(40)}` } })
  t.match(emoji.json(), { encoding: 'UCS-2', segments: 2 })
  const long = await app.inject({ method: 'POST', url: '/api/templates/preview', headers, payload: { body: 'a'.repeat(161) } })
  t.match(long.json(), { encoding: 'GSM-7', segments: 2 })
  t.equal((await app.inject({ url: '/api/templates', headers })).json().length, 1)
  t.equal((await app.inject({ method: 'DELETE', url: `/api/templates/${id}`, headers })).statusCode, 204)
  t.equal((await app.inject({ url: `/api/templates/${id}`, headers })).statusCode, 404)
})
