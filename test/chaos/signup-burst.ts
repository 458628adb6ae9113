// PostgreSQL SIGKILLed during a burst of sign-ups: /ready reports the outage, the service recovers
// without a restart, and after the reconciler there is no orphan database, no half tenant and no
// email index row pointing at nothing; every sign-up that answered 201 works, every other can retry.
import { checks, sleep, startWorld, until } from './world.js'

const PASSWORD = 'correct horse battery staple'

export async function signupBurst (): Promise<string[]> {
  const world = await startWorld()
  const { app, pg, sql } = world
  const c = checks()
  try {
    const register = async (i: number) => await app.inject({
      method: 'POST',
      url: '/api/auth/register',
      payload: { email: `burst${i}@example.org`, password: PASSWORD, firstName: 'Ada', lastName: 'B', churchName: `Church ${i}` },
      remoteAddress: `10.0.${i}.1`
    }).catch((error: unknown) => ({ statusCode: 0, body: String(error), json: () => ({}) }))
    const burst = Array.from({ length: 24 }, async (_, i) => { await sleep(i * 40); return await register(i) })
    await sleep(300)
    await pg.kill()
    let sawOutage = false
    for (let i = 0; i < 10 && !sawOutage; i++) {
      sawOutage = (await app.inject({ url: '/ready' })).statusCode === 503
      await sleep(200)
    }
    c.ok(sawOutage, '/ready reports 503 while PostgreSQL is down')
    await sleep(1500)
    await pg.restart()
    const results = await Promise.all(burst)
    c.ok(results.every((res) => res.statusCode === 201 || res.statusCode >= 500 || res.statusCode === 0), `sign-ups answer 201 or a 5xx during the outage (got ${[...new Set(results.map((r) => r.statusCode))].join(',')})`)
    await until(async () => (await app.inject({ url: '/ready' })).statusCode === 200, '/ready after the restart')
    // The leases of sign-ups cut short expire; the reconciler then finishes or undoes each one.
    await app.reconciler.run(new Date(Date.now() + 10 * 60_000))
    await app.reconciler.run(new Date(Date.now() + 10 * 60_000))

    const half = await sql<{ n: number }>('registry', 'SELECT count(*)::int AS n FROM "ProvisioningRequest" WHERE state NOT IN (\'ACTIVE\', \'ROLLED_BACK\', \'FAILED\')')
    c.equal(half[0]?.n, 0, 'sign-ups left between steps')
    const tenants = await sql<{ id: string, status: string, databaseName: string }>('registry', 'SELECT id, status::text, "databaseName" FROM "Tenant"')
    c.ok(tenants.every((t) => t.status === 'ACTIVE'), `every tenant left is ACTIVE (${tenants.map((t) => t.status).join(',')})`)
    const databases = (await sql<{ datname: string }>('postgres', "SELECT datname FROM pg_database WHERE datname LIKE 'tenant\\_%' AND datname <> 'tenant_template'")).map((r) => r.datname)
    const known = new Set(tenants.map((t) => t.databaseName))
    c.ok(databases.every((d) => known.has(d)), `no orphan tenant database (${databases.filter((d) => !known.has(d)).join(',')})`)
    c.ok(tenants.every((t) => databases.includes(t.databaseName)), 'every tenant has its database')
    const dangling = await sql<{ n: number }>('registry', 'SELECT count(*)::int AS n FROM "AdminEmailIndex" e WHERE NOT EXISTS (SELECT 1 FROM "Tenant" t WHERE t.id = e."tenantId")')
    c.equal(dangling[0]?.n, 0, 'email index rows without a tenant')

    for (const [i, res] of results.entries()) {
      const login = await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: `burst${i}@example.org`, password: PASSWORD }, remoteAddress: `10.1.${i}.1` })
      if (res.statusCode === 201) c.equal(login.statusCode, 200, `sign-up ${i} answered 201 and can log in`)
      else {
        const retry = await register(i)
        c.equal(retry.statusCode, 201, `sign-up ${i} (${res.statusCode}) succeeds when retried`)
      }
    }
    c.ok(results.some((res) => res.statusCode !== 201), 'the kill interrupted at least one sign-up (else the scenario proved nothing)')
    return c.failures
  } finally {
    await world.close()
  }
}
