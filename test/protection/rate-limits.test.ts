import t from 'tap'
import { build, registerOrganization } from '../helper.js'

const PASSWORD = 'correct horse battery staple'

t.test('a burst of concurrent wrong logins: exactly the limit reach the password check, the rest get 429', async (t) => {
  const app = await build(t, { LOGIN_MAX_ATTEMPTS: '5' })
  const org = (await registerOrganization(app)).json() as { email: string }
  // Before the attempt was counted first, every one of these passed the check before any failure was recorded.
  const burst = await Promise.all(Array.from({ length: 30 }, async (_, i) =>
    await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: org.email, password: `wrong password ${i}` }, remoteAddress: `10.7.0.${i}` })))
  const codes = burst.map((res) => res.statusCode)
  t.equal(codes.filter((code) => code === 401).length, 5, 'exactly LOGIN_MAX_ATTEMPTS wrong passwords were checked')
  t.equal(codes.filter((code) => code === 429).length, 25)
  const right = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: org.email, password: PASSWORD }, remoteAddress: '10.7.1.1' })
  t.equal(right.statusCode, 429, 'the right password waits out the window too')
  t.ok(Number(right.headers['retry-after']) > 0)
})

t.test('the per-IP ceiling on public routes is shared by every instance and holds under a burst', async (t) => {
  const a = await build(t, { RATE_LIMIT_PER_MINUTE: '4' })
  const b = await build(t, { RATE_LIMIT_PER_MINUTE: '4', DATABASE_URL: a.config.databaseUrl as string })
  const burst = await Promise.all(Array.from({ length: 12 }, async (_, i) =>
    await (i % 2 === 0 ? a : b).inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: 'not-a-token' }, remoteAddress: '10.8.0.1' })))
  const codes = burst.map((res) => res.statusCode)
  t.equal(codes.filter((code) => code === 401).length, 4, 'four requests from the IP over both instances')
  const limited = burst.filter((res) => res.statusCode === 429)
  t.equal(limited.length, 8)
  t.equal(limited[0]?.json().code, 'TOO_MANY_REQUESTS')
  t.ok(Number(limited[0]?.headers['retry-after']) > 0, 'Retry-After tells when to come back')
  const other = await a.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: 'not-a-token' }, remoteAddress: '10.8.0.2' })
  t.equal(other.statusCode, 401, 'another client is not limited')
  const signUp = await b.inject({ method: 'POST', url: '/api/auth/register', payload: {}, remoteAddress: '10.8.0.1' })
  t.equal(signUp.statusCode, 429, 'sign-up shares the ceiling')
})

t.test('a window that has passed starts over', async (t) => {
  const app = await build(t, { RATE_LIMIT_PER_MINUTE: '1' })
  const refresh = async () => await app.inject({ method: 'POST', url: '/api/auth/refresh', payload: { refreshToken: 'not-a-token' }, remoteAddress: '10.9.0.1' })
  t.equal((await refresh()).statusCode, 401)
  t.equal((await refresh()).statusCode, 429)
  // Move the window's end into the past rather than wait a minute.
  await app.registry.$executeRaw`UPDATE "RateLimitCounter" SET "resetAt" = now() - interval '1 second'`
  t.equal((await refresh()).statusCode, 401)
})
