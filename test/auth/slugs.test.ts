// Organization addresses: chosen or derived at sign-up, unique, public display name, login by slug.
import t from 'tap'
import { build } from '../helper.js'
import { PASSWORD, signUp, uniqueEmail } from '../helpers/team.js'
import { deriveSlug } from '../../src/auth/slugs.js'

// One app (and registry) for the whole file: each test works in organizations of its own.
const app = await build(t)

t.test('slugs are derived from the church name', async (t) => {
  t.equal(deriveSlug('St. Mary’s Église'), 'st-marys-eglise')
  t.equal(deriveSlug('  First Baptist Church of Springfield, Illinois (Downtown Campus) '), 'first-baptist-church-of-springfield')
  t.match(deriveSlug('教会'), /^church-\d{4}$/)
  t.equal(deriveSlug('Admin'), 'church-admin')
})

t.test('a chosen slug is public by its display name only, and unique (409); bad slugs are 400', async (t) => {
  const org = await signUp(app, 'Grace Chapel', { slug: 'grace-downtown' })
  const pub = await app.inject({ method: 'GET', url: '/api/organizations/grace-downtown' })
  t.equal(pub.statusCode, 200)
  t.same(pub.json(), { name: 'Grace Chapel' })
  t.equal((await app.registry.tenant.findUniqueOrThrow({ where: { id: org.tenantId } })).slug, 'grace-downtown')

  const tenants = await app.registry.tenant.count()
  const taken = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { email: uniqueEmail(), password: PASSWORD, firstName: 'A', lastName: 'B', churchName: 'Other', slug: 'grace-downtown' } })
  t.equal(taken.statusCode, 409)
  t.equal(taken.json().code, 'SLUG_TAKEN')
  for (const slug of ['Bad Slug', 'ab', 'double--hyphen', '-edge', 'api']) {
    const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { email: uniqueEmail(), password: PASSWORD, firstName: 'A', lastName: 'B', churchName: 'Other', slug } })
    t.equal(res.statusCode, 400, slug)
    t.equal(res.json().code, 'INVALID_SLUG', slug)
  }
  t.equal(await app.registry.tenant.count(), tenants, 'no organization was created by a refused sign-up')
  t.equal((await app.inject({ method: 'GET', url: '/api/organizations/nobody-here' })).statusCode, 404)
  t.equal((await app.inject({ method: 'GET', url: '/api/organizations/NOT%20A%20SLUG' })).json().code, 'INVALID_SLUG')
})

t.test('derived slugs that collide get a suffix, even when the sign-ups run at once', async (t) => {
  const orgs = await Promise.all([signUp(app, 'Twin Chapel'), signUp(app, 'Twin Chapel'), signUp(app, 'Twin Chapel')])
  const slugs = await Promise.all(orgs.map(async (o) => (await app.registry.tenant.findUniqueOrThrow({ where: { id: o.tenantId } })).slug))
  t.same([...slugs].sort(), ['twin-chapel', 'twin-chapel-2', 'twin-chapel-3'])
})

t.test('login with organization: slug picks it; an unknown slug is just wrong credentials', async (t) => {
  const email = uniqueEmail('pastor')
  const payload = { email, password: PASSWORD, firstName: 'P', lastName: 'Q' }
  const a = (await app.inject({ method: 'POST', url: '/api/auth/register', payload: { ...payload, churchName: 'North', slug: 'north-campus' } })).json()
  const b = (await app.inject({ method: 'POST', url: '/api/auth/register', payload: { ...payload, churchName: 'South', slug: 'south-campus' } })).json()
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password: PASSWORD } })).statusCode, 409)
  const north = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password: PASSWORD, organization: 'north-campus' } })
  t.equal(north.statusCode, 200)
  t.equal(north.json().tenantId, a.tenantId)
  const south = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password: PASSWORD, organization: 'south-campus' } })
  t.equal(south.json().tenantId, b.tenantId)
  const unknown = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email, password: PASSWORD, organization: 'west-campus' } })
  t.equal(unknown.statusCode, 401)
  t.equal(unknown.json().code, 'INVALID_CREDENTIALS')
})
