import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { build } from '../helper.js'

const PASSWORD = 'correct horse battery staple'

async function register (app: FastifyInstance, email: string, churchName: string, password = PASSWORD) {
  const res = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { email, password, firstName: 'Sam', lastName: 'Ode', churchName } })
  if (res.statusCode !== 201) throw new Error(res.body)
  return res.json() as { tenantId: string, accessToken: string, refreshToken: string }
}

const login = async (app: FastifyInstance, payload: Record<string, unknown>, ip = '10.0.0.1') =>
  await app.inject({ method: 'POST', url: '/api/auth/login', payload, remoteAddress: ip })

t.test('login finds the admin by email, case-insensitively, and returns a working token pair', async (t) => {
  const app = await build(t)
  const { tenantId } = await register(app, 'Leader@Example.org', 'Grace Chapel')
  const res = await login(app, { email: '  leader@EXAMPLE.org ', password: PASSWORD })
  t.equal(res.statusCode, 200, res.body)
  t.equal(res.json().tenantId, tenantId)
  const me = await app.inject({ method: 'GET', url: '/api/me', headers: { authorization: `Bearer ${res.json().accessToken}` } })
  t.equal(me.statusCode, 200)
  t.equal(me.json().church.name, 'Grace Chapel')
})

t.test('unknown email and wrong password get the same 401 body', async (t) => {
  const app = await build(t)
  await register(app, 'known@example.org', 'Hope Church')
  const unknown = await login(app, { email: 'nobody@example.org', password: PASSWORD }, '10.0.0.2')
  const wrong = await login(app, { email: 'known@example.org', password: 'not the password' }, '10.0.0.3')
  t.equal(unknown.statusCode, 401)
  t.equal(wrong.statusCode, 401)
  const strip = (b: Record<string, unknown>) => ({ ...b, requestId: undefined })
  t.same(strip(unknown.json()), strip(wrong.json()))
  t.equal(unknown.json().code, 'INVALID_CREDENTIALS')
})

t.test('an email that administers several organizations must choose, and only sees those its password opens', async (t) => {
  const app = await build(t)
  const a = await register(app, 'multi@example.org', 'Alpha Church')
  const b = await register(app, 'multi@example.org', 'Beta Church')
  await register(app, 'multi@example.org', 'Gamma Church', 'a different password entirely')
  const res = await login(app, { email: 'multi@example.org', password: PASSWORD })
  t.equal(res.statusCode, 409)
  t.equal(res.json().code, 'TENANT_SELECTION_REQUIRED')
  t.same(res.json().organizations.map((o: { name: string }) => o.name).sort(), ['Alpha Church', 'Beta Church'])
  const picked = await login(app, { email: 'multi@example.org', password: PASSWORD, tenantId: b.tenantId })
  t.equal(picked.statusCode, 200)
  t.equal(picked.json().tenantId, b.tenantId)
  t.not(picked.json().tenantId, a.tenantId)
})

t.test('repeated failures for one email get 429', async (t) => {
  const app = await build(t, { LOGIN_MAX_ATTEMPTS: '3' })
  await register(app, 'target@example.org', 'Zion')
  const codes: number[] = []
  for (let i = 0; i < 5; i++) codes.push((await login(app, { email: 'target@example.org', password: 'wrong password!' }, `10.1.0.${i}`)).statusCode)
  t.same(codes, [401, 401, 401, 429, 429])
  const blocked = await login(app, { email: 'target@example.org', password: PASSWORD }, '10.1.0.99')
  t.equal(blocked.statusCode, 429, 'even the right password waits out the window')
  t.equal(blocked.json().code, 'TOO_MANY_ATTEMPTS')
})

t.test('repeated failures from one IP get 429 across emails', async (t) => {
  const app = await build(t, { LOGIN_MAX_ATTEMPTS: '3' })
  const codes: number[] = []
  for (let i = 0; i < 4; i++) codes.push((await login(app, { email: `x${i}@example.org`, password: 'wrong password!' }, '10.9.9.9')).statusCode)
  t.same(codes, [401, 401, 401, 429])
})

t.test('the limit holds across API processes sharing a registry', async (t) => {
  const a = await build(t, { LOGIN_MAX_ATTEMPTS: '3' })
  const b = await build(t, { LOGIN_MAX_ATTEMPTS: '3', DATABASE_URL: a.config.databaseUrl as string })
  await register(a, 'spread@example.org', 'Shiloh')
  const codes: number[] = []
  // An attacker spreading guesses over instances behind a load balancer.
  for (const [i, app] of [a, b, a, b].entries()) codes.push((await login(app, { email: 'spread@example.org', password: 'wrong password!' }, `10.2.0.${i}`)).statusCode)
  t.same(codes, [401, 401, 401, 429])
  t.equal((await login(b, { email: 'spread@example.org', password: PASSWORD }, '10.2.0.99')).statusCode, 429)
})

t.test('a successful sign-in clears the failures counted for its email', async (t) => {
  const app = await build(t, { LOGIN_MAX_ATTEMPTS: '3' })
  await register(app, 'forgetful@example.org', 'Bethel')
  const codes: number[] = []
  for (const password of ['wrong password!', 'wrong password!', PASSWORD, 'wrong password!', 'wrong password!', PASSWORD]) {
    codes.push((await login(app, { email: 'forgetful@example.org', password }, `10.3.0.${codes.length}`)).statusCode)
  }
  t.same(codes, [401, 401, 200, 401, 401, 200])
})

t.test('refresh tokens rotate; reusing a rotated one revokes the family; logout revokes', async (t) => {
  const app = await build(t)
  const first = await register(app, 'rotate@example.org', 'Rotation Church')
  const refresh = async (token: string) => await app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: token } })
  const second = await refresh(first.refreshToken)
  t.equal(second.statusCode, 200)
  t.not(second.json().refreshToken, first.refreshToken)
  const third = await refresh(second.json().refreshToken)
  t.equal(third.statusCode, 200)
  // The first token was already used: presenting it again is theft, and the live one dies with it.
  const reuse = await refresh(first.refreshToken)
  t.equal(reuse.statusCode, 401)
  t.equal(reuse.json().code, 'INVALID_REFRESH_TOKEN')
  t.equal((await refresh(third.json().refreshToken)).statusCode, 401, 'family revoked')

  const fresh = await login(app, { email: 'rotate@example.org', password: PASSWORD })
  const out = await app.inject({ method: 'POST', url: '/api/auth/logout', payload: { refreshToken: fresh.json().refreshToken } })
  t.equal(out.statusCode, 204)
  t.equal((await refresh(fresh.json().refreshToken)).statusCode, 401, 'logged out token is dead')
  t.equal((await refresh('garbage-token-value')).statusCode, 401)
})

t.test('malformed JSON is a 400 in the error shape', async (t) => {
  const app = await build(t)
  const res = await app.inject({ method: 'POST', url: '/api/auth/login', headers: { 'content-type': 'application/json' }, payload: '{"email": ' })
  t.equal(res.statusCode, 400)
  t.match(res.json(), { statusCode: 400, code: 'INVALID_JSON', requestId: String })
})

t.test('X-Forwarded-For from an untrusted client does not dodge the IP limit', async (t) => {
  const app = await build(t, { LOGIN_MAX_ATTEMPTS: '3' })
  const codes: number[] = []
  for (let i = 0; i < 4; i++) {
    const res = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: `s${i}@example.org`, password: 'wrong password!' }, remoteAddress: '10.7.7.7', headers: { 'x-forwarded-for': `192.0.2.${i}` } })
    codes.push(res.statusCode)
  }
  t.same(codes, [401, 401, 401, 429])
})
