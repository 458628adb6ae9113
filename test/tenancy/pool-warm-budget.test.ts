// The connection budget keeps as many tenants warm as it has connections: an idle cached client holds
// one connection, a busy one opens more only from free room and gives them back soon after, observed
// through pg_stat_activity.
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { connect } from '../../src/db/pg-admin.js'
import { createTenantPool, type TenantConnectionInfo, type TenantPrismaClient } from '../../src/tenancy/tenant-pool.js'
import { createTestDatabase, testServerUrl } from '../helper.js'
import { until } from '../helpers/wait.js'

const BUDGET = 8
const urls: string[] = []
t.before(async () => {
  for (let i = 0; i < BUDGET + 2; i++) urls.push(await createTestDatabase('warmtest'))
})
const names = (): string[] => urls.map((url) => new URL(url).pathname.slice(1))
const resolve = async (tenantId: string): Promise<TenantConnectionInfo> => ({ tenantId, serverId: 'test', url: urls[Number(tenantId.slice(1))] as string })

const admin = await connect(await testServerUrl())
t.teardown(async () => { await admin.end() })
async function connections (): Promise<Map<string, number>> {
  const { rows } = await admin.query<{ db: string, n: number }>('SELECT datname AS db, count(*)::int AS n FROM pg_stat_activity WHERE datname = ANY($1) GROUP BY datname', [names()])
  return new Map(rows.map((r) => [r.db, r.n]))
}
const total = (m: Map<string, number>): number => [...m.values()].reduce((a, b) => a + b, 0)
const sleepQuery = async (db: TenantPrismaClient, s: number): Promise<void> => { await db.$queryRaw`SELECT 1 AS one FROM pg_sleep(${s})` }

function makePool (tt: Pick<typeof t, 'teardown'>) {
  const pool = createTenantPool({ maxClients: 100, connectionBudget: () => BUDGET, connectionsPerClient: 3, extraIdleMs: 200, resolve })
  tt.teardown(async () => { await pool.close() })
  return pool
}

t.test('a budget of N connections keeps N tenants warm, one connection each', async (t) => {
  const pool = makePool(t)
  for (let i = 0; i < BUDGET; i++) await pool.withTenant(`t${i}`, async (db) => { await sleepQuery(db, 0) })
  const open = await connections()
  t.equal(pool.stats().clients, BUDGET, `${BUDGET} clients cached`)
  t.equal(total(open), BUDGET, `${BUDGET} connections in PostgreSQL`)
  t.ok([...open.values()].every((n) => n === 1), 'one per tenant')
  const { misses } = pool.stats()
  for (let i = 0; i < BUDGET; i++) await pool.withTenant(`t${i}`, async (db) => { await sleepQuery(db, 0) })
  t.equal(pool.stats().misses, misses, 'all of them were still warm')
  await pool.withTenant(`t${BUDGET}`, async (db) => { await sleepQuery(db, 0) })
  t.match(pool.stats(), { clients: BUDGET, evictions: 1 }, 'one more tenant takes the slot of an idle one')
  await until(async () => total(await connections()) === BUDGET, { what: 'the victim to disconnect' })
})

t.test('a busy client opens more connections only from free room, and closes them when idle', async (t) => {
  const pool = makePool(t)
  // Five warm tenants leave three free connections.
  for (let i = 0; i < 5; i++) await pool.withTenant(`t${i}`, async (db) => { await sleepQuery(db, 0) })
  let peak = 0
  let busyPeak = 0
  let sampling = true
  const busyDb = names()[0] as string
  const sampler = (async () => {
    // eslint-disable-next-line no-unmodified-loop-condition -- cleared once the load is done
    while (sampling) {
      const open = await connections()
      peak = Math.max(peak, total(open))
      busyPeak = Math.max(busyPeak, open.get(busyDb) ?? 0)
      await sleep(10)
    }
  })()
  // Four concurrent requests for one tenant: up to connectionsPerClient (3) connections in parallel.
  const started = performance.now()
  await Promise.all(Array.from({ length: 4 }, async () => await pool.withTenant('t0', async (db) => { await sleepQuery(db, 0.3) })))
  const parallelMs = performance.now() - started
  t.ok(parallelMs < 1100, `four 300 ms queries on three connections took ${parallelMs.toFixed(0)} ms, not 1.2 s`)
  t.equal(busyPeak, 3, 'the busy tenant used three connections')
  await until(async () => (await connections()).get(busyDb) === 1, { what: 'the extra connections to close' })
  t.equal(total(await connections()), 5, 'back to one connection per warm tenant')

  // Now fill the budget: a busy tenant gets no extra connection and nobody warm is evicted for one.
  for (let i = 5; i < BUDGET; i++) await pool.withTenant(`t${i}`, async (db) => { await sleepQuery(db, 0) })
  const { evictions } = pool.stats()
  busyPeak = 0
  await Promise.all(Array.from({ length: 3 }, async () => await pool.withTenant('t1', async (db) => { await sleepQuery(db, 0.1) })))
  sampling = false
  await sampler
  t.equal(busyPeak <= 1 ? 1 : busyPeak, 1)
  t.equal((await connections()).get(names()[1] as string), 1, 'the tenant stayed on its one connection')
  t.equal(pool.stats().evictions, evictions, 'no warm tenant was evicted for it')
  t.ok(peak <= BUDGET, `at most ${BUDGET} connections seen (max ${peak})`)
})

t.test('parallel queries in one lease get more connections when there is room', async (t) => {
  const pool = makePool(t)
  let busyPeak = 0
  const db0 = names()[2] as string
  await pool.withTenant('t2', async (db) => {
    const probe = (async () => {
      for (let i = 0; i < 20; i++) {
        busyPeak = Math.max(busyPeak, (await connections()).get(db0) ?? 0)
        await sleep(15)
      }
    })()
    await Promise.all([sleepQuery(db, 0.25), sleepQuery(db, 0.25), sleepQuery(db, 0.25)])
    await probe
  })
  t.equal(busyPeak, 3, `three parallel queries on three connections (peak ${busyPeak})`)
  await until(async () => (await connections()).get(db0) === 1, { what: 'the extra connections to close' })
})
