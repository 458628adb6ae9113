// app.close() after PostgreSQL was SIGKILLed (issue 14, chaos suite): a transaction whose COMMIT meets
// the dead server must not leave its connection checked out (Prisma's adapter never releases it), or
// that pool has a slot fewer for good and its end() never returns; and with PostgreSQL down the whole
// time, close still finishes; a server that hangs instead of dying is reported by /ready all the same.
// The tests share a killable PostgreSQL (test/chaos/), up between tests.
import t from 'tap'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.js'
import { loadConfig } from '../../src/config.js'
import { ClosablePool } from '../../src/db/closable-pool.js'
import { READY_PROBE_TIMEOUT_MS } from '../../src/routes/public/health.js'
import { createRegistryClient } from '../../src/registry/registry-client.js'
import { startGround, type Ground } from '../chaos/world.js'

const CLOSE_BOUND_MS = 10_000

/** How long `promise` took to resolve, or 'hung' past `ms` (the test then fails instead of hanging); a rejection is thrown. */
async function timed (promise: Promise<unknown>, ms: number): Promise<number | 'hung'> {
  const started = Date.now()
  let timer: NodeJS.Timeout | undefined
  const hung = new Promise<'hung'>((resolve) => { timer = setTimeout(() => { resolve('hung') }, ms) })
  const done = promise.then(() => Date.now() - started)
  return await Promise.race([done, hung]).finally(() => { clearTimeout(timer) })
}

interface Teardown { teardown: (fn: () => unknown) => void }

const shared: Ground = await startGround()
t.teardown(async () => { await shared.close() })

/** The shared PostgreSQL, started again after the test if the test leaves it killed. */
async function ground (t: Teardown): Promise<Ground> {
  t.teardown(async () => {
    if (await shared.sql('postgres', 'SELECT 1').then(() => false, () => true)) await shared.pg.restart()
  })
  return shared
}

/** An app on `g`, closed at teardown (bounded) if the test did not get as far as closing it. */
async function app (t: Teardown, g: Ground): Promise<FastifyInstance> {
  const a = await buildApp(await loadConfig(g.env), { logger: false })
  t.teardown(async () => { await timed(a.close(), CLOSE_BOUND_MS).catch(() => {}) })
  return a
}

const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }
const settled = async (p: Promise<unknown>): Promise<'done' | 'failed'> => await p.then(() => 'done' as const, () => 'failed' as const)

t.test('a registry transaction cut by a kill at COMMIT leaves its pool whole, and close finishes', async (t) => {
  const g = await ground(t)
  const registry = createRegistryClient(g.env.DATABASE_URL as string, 1)
  await registry.$queryRaw`SELECT 1`
  // The kill lands between the transaction's last statement and its COMMIT, every time.
  await t.rejects(registry.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT 1`
    await g.pg.kill()
  }))
  await g.pg.restart()
  // One connection in this pool: had the dead one stayed checked out, this would time out.
  t.same(await registry.$queryRaw`SELECT 1 AS one`, [{ one: 1 }], 'the only connection slot is free again')
  t.not(await timed(registry.$disconnect(), CLOSE_BOUND_MS), 'hung', '$disconnect finishes')
})

t.test('after a kill mid-transaction in the registry and in a tenant database, app.close() finishes', async (t) => {
  const g = await ground(t)
  const a = await app(t, g)
  const signUp = await a.inject({ method: 'POST', url: '/api/auth/register', payload: { email: 'kill@example.org', password: 'correct horse battery staple', firstName: 'A', lastName: 'B', churchName: 'Killed Church' } })
  t.equal(signUp.statusCode, 201)
  const { tenantId } = signUp.json() as { tenantId: string }
  // Both a registry and a tenant transaction are open when the server dies.
  const registryTx = settled(a.registry.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT 1`
    await sleep(300)
  }))
  const tenantTx = settled(a.pool.withTenant(tenantId, async (db) => await db.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT 1`
    await sleep(300)
  })))
  await g.pg.kill()
  t.equal(await registryTx, 'failed', 'the registry transaction fails')
  t.equal(await tenantTx, 'failed', 'the tenant transaction fails')
  await g.pg.restart()
  let ready = 0
  for (let i = 0; i < 50 && ready !== 200; i++) {
    ready = (await a.inject({ url: '/ready' })).statusCode
    if (ready !== 200) await sleep(200)
  }
  t.equal(ready, 200, 'the service recovered')
  const members = await a.inject({ url: '/api/members', headers: { authorization: `Bearer ${(signUp.json() as { accessToken: string }).accessToken}` } })
  t.equal(members.statusCode, 200, 'the tenant is served again')
  const took = await timed(a.close(), CLOSE_BOUND_MS)
  t.not(took, 'hung', `app.close() finishes (${took === 'hung' ? `still running after ${CLOSE_BOUND_MS} ms` : `${took} ms`})`)
})

t.test('with PostgreSQL down the whole time, app.close() still finishes', async (t) => {
  const g = await ground(t)
  const a = await app(t, g)
  const signUp = await a.inject({ method: 'POST', url: '/api/auth/register', payload: { email: 'down@example.org', password: 'correct horse battery staple', firstName: 'A', lastName: 'B', churchName: 'Down Church' } })
  t.equal(signUp.statusCode, 201)
  const { tenantId } = signUp.json() as { tenantId: string }
  const tenantTx = settled(a.pool.withTenant(tenantId, async (db) => await db.$transaction(async (tx) => {
    await tx.$queryRaw`SELECT 1`
    await sleep(300)
  })))
  await g.pg.kill()
  t.equal(await tenantTx, 'failed', 'the tenant transaction fails')
  t.equal((await a.inject({ url: '/ready' })).statusCode, 503, '/ready reports the outage')
  const took = await timed(a.close(), CLOSE_BOUND_MS)
  t.not(took, 'hung', `app.close() finishes (${took === 'hung' ? `still running after ${CLOSE_BOUND_MS} ms` : `${took} ms`})`)
})

t.test('a PostgreSQL that hangs (SIGSTOP) is reported by /ready within its probe timeout, and ready again once it wakes', async (t) => {
  const g = await ground(t)
  const a = await app(t, g)
  t.equal((await a.inject({ url: '/ready' })).statusCode, 200)
  await g.pg.freeze()
  try {
    // Without the timeout the probe's query waits for the frozen server like everything else.
    const probe = a.inject({ url: '/ready' })
    const took = await timed(probe, READY_PROBE_TIMEOUT_MS * 3)
    t.not(took, 'hung', `/ready answers while the server hangs (${String(took)} ms)`)
    if (took !== 'hung') {
      const res = await probe
      t.equal(res.statusCode, 503, '/ready reports the outage')
      t.equal((res.json() as { checks: { registry: boolean } }).checks.registry, false)
    }
  } finally {
    g.pg.thaw()
  }
  let ready = 0
  for (let i = 0; i < 50 && ready !== 200; i++) {
    ready = (await a.inject({ url: '/ready' })).statusCode
    if (ready !== 200) await sleep(200)
  }
  t.equal(ready, 200, 'ready again once the server wakes')
})

t.test('end() waits a bounded time for a holder that never releases, whose late release is harmless', async (t) => {
  const g = await ground(t)
  const pool = new ClosablePool({ connectionString: g.env.TENANT_DATABASE_URL, endGraceMs: 300 })
  const held = await pool.connect()
  t.equal(pool.checkedOut, 1)
  const took = await timed(pool.end(), CLOSE_BOUND_MS)
  t.not(took, 'hung', 'end() finishes')
  t.ok(typeof took === 'number' && took >= 250, `after the grace period (${String(took)} ms)`)
  t.equal(pool.checkedOut, 0)
  t.doesNotThrow(() => { held.release() }, 'a release after that is a no-op')
  await t.rejects(held.query('SELECT 1'), 'the client was taken back')
})

t.test('a checked-out client whose server died is given back by the pool itself', async (t) => {
  const g = await ground(t)
  const pool = new ClosablePool({ connectionString: g.env.TENANT_DATABASE_URL, max: 1 })
  pool.on('error', () => {})
  const held = await pool.connect()
  await g.pg.kill()
  for (let i = 0; i < 50 && pool.checkedOut > 0; i++) await sleep(20)
  t.equal(pool.checkedOut, 0, 'no longer counted as out')
  t.equal(pool.totalCount, 0, 'its slot is free')
  t.doesNotThrow(() => { held.release() }, 'the holder releasing it later is harmless')
  await g.pg.restart()
  const again = await pool.connect()
  t.same((await again.query('SELECT 1 AS one')).rows, [{ one: 1 }])
  again.release()
  await pool.end()
})
