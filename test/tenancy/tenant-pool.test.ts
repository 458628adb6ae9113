// The tenant client pool against a real PostgreSQL: connection budget, single flight, segmented LRU, draining,
// eviction, resolve failures and acquire timeouts, observed through pg_stat_activity and stats().
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { connect } from '../../src/db/pg-admin.js'
import { ERRORS } from '../../src/errors.js'
import { createTenantPool, createTenantPrismaClient, type TenantConnectionInfo, type TenantPoolOptions, type TenantPrismaClient } from '../../src/tenancy/tenant-pool.js'
import { createTestDatabase, testServerUrl } from '../helper.js'
import { until } from '../helpers/wait.js'

// 200 CREATE DATABASEs take ~15 s on the embedded server, so 200 tenants share 50 databases; every
// tenant still gets a client (and connections) of its own, which is what the budget is about.
const DATABASES = 50
const urls: string[] = []

t.before(async () => {
  const todo = Array.from({ length: DATABASES }, (_, i) => i)
  await Promise.all(Array.from({ length: 10 }, async () => {
    while (todo.pop() !== undefined) urls.push(await createTestDatabase('pooltest'))
  }))
})

const tenantUrl = (tenantId: string): string => urls[Number(tenantId.replace(/\D/g, '')) % urls.length] as string
const resolveTenant = async (tenantId: string): Promise<TenantConnectionInfo> => ({ tenantId, serverId: 'test', url: tenantUrl(tenantId) })
const databaseOf = (url: string): string => new URL(url).pathname.slice(1)

type Options = Partial<TenantPoolOptions<TenantPrismaClient>>
function makePool (tt: Tap, options: Options = {}) {
  const pool = createTenantPool({ maxClients: 10, connectionBudget: () => 100, connectionsPerClient: 2, resolve: resolveTenant, ...options })
  tt.teardown(async () => { await pool.close() })
  return pool
}
type Tap = Pick<typeof t, 'teardown'>

async function currentDatabase (client: TenantPrismaClient, seconds = 0.01): Promise<string> {
  const rows = await client.$queryRaw<Array<{ db: string }>>`SELECT current_database()::text AS db FROM pg_sleep(${seconds})`
  return rows[0]?.db ?? ''
}

async function connectionsTo (names: string[]): Promise<number> {
  const admin = await connect(await testServerUrl())
  try {
    const result = await admin.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = ANY($1)', [names])
    return result.rows[0]?.n ?? -1
  } finally {
    await admin.end()
  }
}

t.test('200 concurrent tenants stay within the client count and the connection budget', async (t) => {
  const pool = makePool(t, { maxClients: 20, connectionsPerClient: 2, connectionBudget: () => 30, acquireTimeoutMs: 60_000 })
  const admin = await connect(await testServerUrl())
  t.teardown(async () => { await admin.end() })

  let sampling = true
  let maxSeen = 0
  let maxClients = 0
  let samples = 0
  // A backend whose client has just disconnected stays in pg_stat_activity until the server process
  // exits, a moment after the pool freed its slot: only backends seen in two samples in a row count.
  let previous = new Set<number>()
  const sampler = (async () => {
    // eslint-disable-next-line no-unmodified-loop-condition -- cleared once the load is done
    while (sampling) {
      const result = await admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname LIKE 'pooltest_%'")
      const current = new Set(result.rows.map((r) => r.pid))
      maxSeen = Math.max(maxSeen, [...current].filter((pid) => previous.has(pid)).length)
      previous = current
      maxClients = Math.max(maxClients, pool.stats().clients)
      samples++
      await sleep(5)
    }
  })()

  const tenants = Array.from({ length: 200 }, (_, i) => `tenant-${i}`)
  // Two queries per lease, so that clients open a second connection whenever the budget has room.
  const results = await Promise.allSettled(tenants.map(async (id) => await pool.withTenant(id, async (client) => {
    const [db, again] = await Promise.all([currentDatabase(client), currentDatabase(client)])
    return db === again ? db : 'mixed'
  })))
  sampling = false
  await sampler

  const wrong = results.filter((r, i) => r.status !== 'fulfilled' || r.value !== databaseOf(tenantUrl(tenants[i] as string)))
  t.equal(wrong.length, 0, 'every tenant was served from its own database')
  t.ok(samples > 10, `pg_stat_activity was sampled (${samples} samples)`)
  t.ok(maxSeen > 0 && maxSeen <= 30, `at most 30 connections seen by PostgreSQL (max ${maxSeen})`)
  t.ok(maxClients <= 20, `at most 20 clients, one connection each while idle (max ${maxClients})`)
  const stats = pool.stats()
  t.equal(stats.misses, 200)
  t.ok(stats.evictions >= 180, 'idle clients were evicted to make room (200 tenants, at most 20 cached)')
  t.equal(stats.waiters, 0)
  t.equal(stats.inFlight, 0)
  t.ok((stats.servers.test?.openConnections ?? 0) <= 30)
})

t.test('concurrent first requests for one tenant build one client', async (t) => {
  let resolves = 0
  let creates = 0
  const pool = makePool(t, {
    resolve: async (id) => { resolves++; await sleep(20); return await resolveTenant(id) },
    createClient: (info, pg) => { creates++; return createTenantPrismaClient(info, pg) }
  })
  const leases = await Promise.all(Array.from({ length: 50 }, async () => await pool.acquire('tenant-1')))
  t.equal(resolves, 1, 'resolve called once')
  t.equal(creates, 1, 'one client built')
  t.equal(new Set(leases.map((l) => l.client)).size, 1, 'all callers share it')
  t.equal(await currentDatabase(leases[0]!.client), databaseOf(tenantUrl('tenant-1')))
  t.equal(pool.stats().inFlight, 50)
  for (const lease of leases) lease.release()
  leases[0]?.release()
  const stats = pool.stats()
  t.match(stats, { clients: 1, misses: 1, hits: 49, inFlight: 0 })
})

t.test('a client used twice outlives newer clients used once (segmented LRU)', async (t) => {
  const pool = makePool(t, { maxClients: 3 })
  // A is the least recently used when D arrives, but it was used twice: plain LRU would evict it.
  for (const id of ['tenant-a1', 'tenant-a1', 'tenant-b2', 'tenant-c3', 'tenant-d4']) {
    await pool.withTenant(id, async (client) => await currentDatabase(client))
  }
  t.match(pool.stats(), { clients: 3, misses: 4, hits: 1, evictions: 1, protectedClients: 1 })
  await pool.withTenant('tenant-a1', async (client) => await currentDatabase(client))
  t.match(pool.stats(), { misses: 4, hits: 2 }, 'A is still cached')
  await pool.withTenant('tenant-b2', async (client) => await currentDatabase(client))
  t.match(pool.stats(), { misses: 5, evictions: 2 }, 'B, on probation and least recently used there, was the victim')
})

t.test('the least recently used idle client is evicted', async (t) => {
  const pool = makePool(t, { maxClients: 2 })
  for (const id of ['tenant-a1', 'tenant-b2', 'tenant-a1', 'tenant-c3']) {
    await pool.withTenant(id, async (client) => await currentDatabase(client))
  }
  t.match(pool.stats(), { clients: 2, misses: 3, hits: 1, evictions: 1 })
  await pool.withTenant('tenant-a1', async (client) => await currentDatabase(client))
  t.match(pool.stats(), { misses: 3, hits: 2, evictions: 1 }, 'A is still cached')
  await pool.withTenant('tenant-b2', async (client) => await currentDatabase(client))
  t.match(pool.stats(), { misses: 4, evictions: 2 }, 'B had been evicted')
})

t.test('a busy client drains before it is evicted for a waiter', async (t) => {
  const events: string[] = []
  const pool = makePool(t, {
    maxClients: 1,
    disposeClient: async (client) => { events.push('disposed'); await client.$disconnect() }
  })
  const a = await pool.acquire('tenant-1')
  const slow = currentDatabase(a.client, 0.3).then((db) => { events.push('query done'); a.release(); return db })
  await sleep(20)
  const b = pool.acquire('tenant-2').then((lease) => { events.push('B served'); return lease })
  await until(() => pool.stats().waiters === 1)
  t.equal(pool.stats().waiters, 1, 'B waits')
  t.equal(pool.stats().clients, 1)
  t.equal(await slow, databaseOf(tenantUrl('tenant-1')), 'the slow query completed')
  const lease = await b
  t.same(events, ['query done', 'disposed', 'B served'])
  t.equal(await currentDatabase(lease.client), databaseOf(tenantUrl('tenant-2')))
  lease.release()
  t.match(pool.stats(), { clients: 1, waiters: 0, evictions: 1 })
})

t.test('evict waits for in-flight leases; close disconnects everything', async (t) => {
  const pool = makePool(t)
  const names = ['tenant-1', 'tenant-2', 'tenant-3'].map((id) => databaseOf(tenantUrl(id)))
  const a = await pool.acquire('tenant-1')
  const events: string[] = []
  const slow = currentDatabase(a.client, 0.2).then(() => { events.push('query done'); a.release() })
  await sleep(20)
  await pool.evict('tenant-1').then(() => events.push('evicted'))
  await slow
  t.same(events, ['query done', 'evicted'])
  t.match(pool.stats(), { clients: 0, evictions: 1, openConnections: 0 })

  await Promise.all(['tenant-1', 'tenant-2', 'tenant-3'].map(async (id) => await pool.withTenant(id, async (c) => await currentDatabase(c))))
  t.ok(pool.stats().openConnections > 0)
  t.ok(await connectionsTo(names) > 0, 'connections open before close')
  await pool.close()
  t.match(pool.stats(), { clients: 0, openConnections: 0 })
  t.equal(await connectionsTo(names), 0, 'no connections left to those databases')
  await t.rejects(pool.acquire('tenant-1'), { code: 'SERVICE_UNAVAILABLE' }, 'a closed pool refuses')
  await pool.close()
})

t.test('a failing resolve reaches every waiter and caches nothing', async (t) => {
  let resolves = 0
  const pool = makePool(t, {
    resolve: async (id) => {
      resolves++
      await sleep(20)
      if (resolves === 1) throw new ERRORS.TenantNotFound(id)
      return await resolveTenant(id)
    }
  })
  const results = await Promise.allSettled(Array.from({ length: 10 }, async () => await pool.acquire('tenant-9')))
  const errors = results.map((r) => (r.status === 'rejected' ? r.reason as unknown : undefined))
  t.equal(resolves, 1)
  t.ok(errors.every((e) => e === errors[0]), 'all waiters got the same error')
  t.match(errors[0], { code: 'TENANT_NOT_FOUND', statusCode: 404 })
  t.match(pool.stats(), { clients: 0, inFlight: 0, waiters: 0 })

  const db = await pool.withTenant('tenant-9', async (client) => await currentDatabase(client))
  t.equal(resolves, 2, 'a later acquire resolves again')
  t.equal(db, databaseOf(tenantUrl('tenant-9')))
})

t.test('a database that refuses connections fails the acquire; its client is disposed and nothing is cached', async (t) => {
  let broken = true
  let disposed = 0
  const pool = makePool(t, {
    resolve: async (id) => {
      const info = await resolveTenant(id)
      if (!broken) return info
      const url = new URL(info.url)
      url.pathname = '/no_such_database'
      return { ...info, url: url.toString() }
    },
    createClient: createTenantPrismaClient,
    disposeClient: async (client) => { disposed++; await client.$disconnect() }
  })
  const results = await Promise.allSettled(Array.from({ length: 3 }, async () => await pool.acquire('tenant-7')))
  t.ok(results.every((r) => r.status === 'rejected'), 'every waiter fails')
  t.match((results[0] as PromiseRejectedResult).reason, { code: '3D000' })
  // Waiters hear at once; the half-built client is cleaned up right after.
  await until(() => pool.stats().clients === 0)
  t.equal(disposed, 1, 'the half-built client was disposed')
  t.match(pool.stats(), { clients: 0, openConnections: 0, inFlight: 0 })
  broken = false
  t.equal(await pool.withTenant('tenant-7', async (client) => await currentDatabase(client)), databaseOf(tenantUrl('tenant-7')))
})

t.test('waiting longer than acquireTimeoutMs fails with TENANT_POOL_EXHAUSTED', async (t) => {
  const pool = makePool(t, { maxClients: 1, acquireTimeoutMs: 100 })
  const a = await pool.acquire('tenant-1')
  const started = Date.now()
  await t.rejects(pool.acquire('tenant-2'), { code: 'TENANT_POOL_EXHAUSTED', statusCode: 503 })
  t.ok(Date.now() - started >= 95, 'it waited for the timeout')
  t.match(pool.stats(), { waiters: 0, clients: 1 })
  a.release()
  t.equal(await pool.withTenant('tenant-2', async (c) => await currentDatabase(c)), databaseOf(tenantUrl('tenant-2')), 'served once room is free')
})
