// Every tenant route in the OpenAPI document, tried with the other tenant's token and with a forged one:
// 4xx every time, never the other tenant's data, and the owner's records are intact afterwards.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build } from '../helper.js'

const auth = (token: string) => ({ authorization: `Bearer ${token}` })

async function signUp (app: FastifyInstance, name: string) {
  const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { email: `${name}@cross.example.org`, password: 'cross tenant password', firstName: 'X', lastName: 'Y', churchName: name } })
  return res.json() as { tenantId: string, accessToken: string }
}

async function create (app: FastifyInstance, token: string, url: string, payload: Record<string, unknown>): Promise<Record<string, unknown>> {
  const res = await app.inject({ method: 'POST', url, headers: auth(token), payload })
  if (res.statusCode >= 300) throw new Error(`${url}: ${res.body}`)
  return res.json() as Record<string, unknown>
}

t.test('no tenant route serves or changes another tenant\'s records', async (t) => {
  const app = await build(t)
  const a = await signUp(app, 'alpha')
  const b = await signUp(app, 'beta')
  const phone = '+13125550777'
  await create(app, a.accessToken, '/api/phone-numbers', { phoneNumber: phone })
  const member = await create(app, a.accessToken, '/api/members', { firstName: 'Secret', lastName: 'Member', phone: '+13125550199' })
  const branch = await create(app, a.accessToken, '/api/branches', { name: 'Secret Choir' })
  const template = await create(app, a.accessToken, '/api/templates', { name: 'Secret template', body: 'Hi {{firstName}}' })
  const recurring = await create(app, a.accessToken, '/api/recurring-messages', { name: 'Secret weekly', schedule: 'weekly:SUN@09:30', text: 'See you' })
  const message = await create(app, a.accessToken, '/api/messages', { text: 'Secret broadcast', memberIds: [member.id], sendAt: new Date(Date.now() + 86_400_000).toISOString() })
  const conversation = await app.pool.withTenant(a.tenantId, async (db) => await db.conversation.create({ data: { memberId: String(member.id) } }))
  const ids: Record<string, string> = {
    members: String(member.id),
    branches: String(branch.id),
    templates: String(template.id),
    'recurring-messages': String(recurring.id),
    messages: String(message.id),
    conversations: conversation.id,
    'phone-numbers': encodeURIComponent(phone)
  }
  const secrets = ['Secret', phone, ...Object.values(ids)]

  const docs = (await app.inject({ method: 'GET', url: '/docs/json' })).json() as { paths: Record<string, Record<string, unknown>> }
  // Tenant routes are those that declare an operation of the permission table (not public, not operator).
  const routes = Object.entries(docs.paths)
    .flatMap(([path, methods]) => Object.keys(methods).map((method) => ({ method: method.toUpperCase(), path })))
    .filter(({ method, path }) => !['public', 'operator', undefined].includes(app.routeAccess.get(`${method} ${path.replace(/\{(\w+)\}/g, ':$1')}`)))
  t.ok(routes.length >= 30, `${routes.length} tenant routes found`)

  const body = { text: 'hello', name: 'x', body: 'x', firstName: 'x', phone: '+13125550100', phoneNumber: '+13125550100', memberIds: [ids.members], schedule: 'weekly:MON@10:00' }
  const forged = (() => {
    const [h, p, s] = a.accessToken.split('.')
    const claims = JSON.parse(Buffer.from(p ?? '', 'base64url').toString()) as Record<string, unknown>
    return `${h ?? ''}.${Buffer.from(JSON.stringify({ ...claims, tenantId: b.tenantId })).toString('base64url')}.${s ?? ''}`
  })()

  for (const route of routes) {
    const collection = route.path.split('/')[2] ?? ''
    const url = route.path.replace(/\{[^}]+\}/, ids[collection] ?? 'unknown')
    const payload = ['POST', 'PATCH', 'PUT', 'DELETE'].includes(route.method) ? body : undefined
    const asB = await app.inject({ method: route.method as 'GET', url, headers: auth(b.accessToken), ...(payload === undefined ? {} : { payload }) })
    const label = `${route.method} ${route.path}`
    if (route.path.includes('{')) t.ok(asB.statusCode >= 400 && asB.statusCode < 500, `${label} with B's token: ${asB.statusCode}`)
    else t.ok(asB.statusCode < 500, `${label} with B's token: ${asB.statusCode}`)
    for (const secret of secrets) t.notOk(asB.body.includes(secret), `${label} does not reveal ${secret}`)
    const asForged = await app.inject({ method: route.method as 'GET', url, headers: auth(forged), ...(payload === undefined ? {} : { payload }) })
    t.equal(asForged.statusCode, 401, `${label} with a forged token`)
  }

  for (const [collection, id] of Object.entries(ids)) {
    if (collection === 'phone-numbers') continue
    const res = await app.inject({ method: 'GET', url: collection === 'conversations' ? `/api/conversations/${id}/messages` : `/api/${collection}/${id}`, headers: auth(a.accessToken) })
    t.equal(res.statusCode, 200, `A's ${collection} record is intact`)
  }
  const numbers = await app.inject({ method: 'GET', url: '/api/phone-numbers', headers: auth(a.accessToken) })
  t.match(numbers.body, phone)
})
