// Routing benchmark: GET /api/me through the real app over loopback HTTP, with the tenant pool capped
// at 50 clients, over 10 and 1,000 tenants, uniform and Zipf(1.1) tenant choice, 1 and 16 requests in
// flight, with the CPU each request costs this process and PostgreSQL; what a new PostgreSQL backend
// costs on its own (the floor of every miss); then the memory one cached tenant client costs.
import type { FastifyInstance } from 'fastify'
import pg from 'pg'
import { UTC_SESSION_OPTIONS, withClient } from '../src/db/pg-admin.js'
import { createTenantPool, createTenantPrismaClient } from '../src/tenancy/tenant-pool.js'
import { buildBenchApp, createTenants, listenLoopback, type BenchTenant } from './lib/app.js'
import { closedLoop, timedFetch, type Timed } from './lib/http.js'
import { cpuMeter, postmasterPid } from './lib/cpu.js'
import { getGc, settledMemory } from './lib/memory.js'
import { startBenchPostgres } from './lib/pg.js'
import { log, mapLimit, printTable, summarize, verdict } from './lib/stats.js'

const TENANTS = 1000
const POOL_MAX_CLIENTS = 50
// 50 clients x 2 connections = 100, the default budget: set explicitly so the cap stays 50 clients whatever the default.
const CONNECTION_BUDGET = 100
// 1 in flight shows what routing adds to a request; 16 shows it under a load that keeps both cores busy.
const CONCURRENCIES = [1, 16] as const
const WARMUP = 500
const REQUESTS = 3000
const ZIPF_S = 1.1
const MEMORY_STEPS = [200, 1000]
// Bounds each scenario on a slow or busy machine: no request starts after this.
const SCENARIO_MAX_MS = 50_000

/** Deterministic PRNG (mulberry32), so every run draws the same tenant sequence. */
function prng (seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

type Chooser = () => number

function uniform (n: number, random: () => number): Chooser {
  return () => Math.floor(random() * n)
}

/** Rank k (0-based) is chosen with probability proportional to 1 / (k + 1)^s. */
function zipf (n: number, s: number, random: () => number): Chooser {
  const cdf = new Float64Array(n)
  let sum = 0
  for (let k = 0; k < n; k++) { sum += 1 / Math.pow(k + 1, s); cdf[k] = sum }
  return () => {
    const u = random() * sum
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if ((cdf[mid] as number) < u) lo = mid + 1
      else hi = mid
    }
    return lo
  }
}

interface ScenarioResult { name: string, concurrency: number, tenants: number, results: Timed[], wallMs: number, hits: number, misses: number, evictions: number, distinct: number, nodeMs: number, serverMs: number }

async function scenario (app: FastifyInstance, base: string, serverPid: number | undefined, tenants: BenchTenant[], name: string, concurrency: number, count: number, choose: Chooser): Promise<ScenarioResult> {
  const get = async (i: number): Promise<Timed> => {
    const tenant = tenants[i] as BenchTenant
    return await timedFetch(`${base}/api/me`, { headers: { authorization: `Bearer ${tenant.accessToken}` } })
  }
  const draws = (k: number): number[] => Array.from({ length: k }, () => choose())
  const warm = draws(WARMUP)
  await closedLoop(WARMUP, concurrency, async (i) => await get(warm[i] as number), SCENARIO_MAX_MS / 5)
  const before = app.pool.stats()
  const sequence = draws(count)
  const cpu = cpuMeter(serverPid)
  const { results, wallMs, cut } = await closedLoop(count, concurrency, async (i) => await get(sequence[i] as number), SCENARIO_MAX_MS)
  const { nodeMs, serverMs } = cpu.stop()
  if (cut) log(`  ${name}: cut short after ${(SCENARIO_MAX_MS / 1000).toFixed(0)} s with ${results.length} of ${count} requests`)
  const after = app.pool.stats()
  return { name, concurrency, tenants: tenants.length, results, wallMs, hits: after.hits - before.hits, misses: after.misses - before.misses, evictions: after.evictions - before.evictions, distinct: new Set(sequence.slice(0, results.length)).size, nodeMs, serverMs }
}

/**
 * What any miss costs at the least, whatever the pool does: a new PostgreSQL backend in a tenant
 * database (connect as the tenant's role, first query, disconnect), one at a time, with plain pg.
 */
async function newBackendCost (app: FastifyInstance, serverPid: number | undefined, tenants: BenchTenant[]): Promise<{ wallMs: number, nodeMs: number, serverMs: number }> {
  const sample = tenants.slice(-200)
  const infos = await Promise.all(sample.map(async (t) => await app.directory.connectionInfo(t.tenantId)))
  const cpu = cpuMeter(serverPid)
  const started = performance.now()
  for (const [i, info] of infos.entries()) {
    const client = new pg.Client({ connectionString: info.url, options: UTC_SESSION_OPTIONS })
    await client.connect()
    await client.query('SELECT id, email FROM "Admin" WHERE id = $1', [(sample[i] as BenchTenant).adminId])
    await client.end()
  }
  const wallMs = (performance.now() - started) / infos.length
  // Let the last backends exit so their CPU is counted.
  await new Promise((resolve) => setTimeout(resolve, 300))
  const { nodeMs, serverMs } = cpu.stop()
  return { wallMs, nodeMs: nodeMs / infos.length, serverMs: serverMs / infos.length }
}

async function memoryPerClient (app: FastifyInstance, tenants: BenchTenant[]): Promise<void> {
  const gcInfo = getGc()
  log(`memory: ${gcInfo.how}`)
  // Resolve every tenant first so the directory's cache is part of the baseline, not of the clients.
  const infos = new Map(await Promise.all(tenants.map(async (t) => [t.tenantId, await app.directory.connectionInfo(t.tenantId)] as const)))
  const pool = createTenantPool({
    maxClients: TENANTS,
    connectionBudget: () => 1_000_000,
    connectionsPerClient: 1,
    resolve: async (tenantId) => infos.get(tenantId) ?? await app.directory.connectionInfo(tenantId),
    createClient: createTenantPrismaClient
  })
  const rows: Array<Array<string | number>> = []
  try {
    await settledMemory()
    const baseline = await settledMemory()
    let built = 0
    for (const target of MEMORY_STEPS) {
      const from = built
      await mapLimit(target - from, 16, async (i) => {
        await pool.withTenant((tenants[from + i] as BenchTenant).tenantId, async (db) => await db.$queryRaw`SELECT 1`)
      })
      built = target
      const m = await settledMemory()
      const stats = pool.stats()
      const perClient = (m.rss - baseline.rss) / built
      rows.push([built, stats.clients, stats.openConnections, m.rss, m.rss - baseline.rss, perClient, (m.heapUsed - baseline.heapUsed) / built, (m.external - baseline.external) / built, perClient * 1000])
      log(`memory: ${built} clients built`)
    }
    printTable(`RSS of this process per cached tenant client (baseline RSS ${baseline.rss.toFixed(0)} MiB; separate pool, maxClients ${TENANTS}, 1 connection per client, each ran SELECT 1; MiB)`,
      ['clients', 'pool clients', 'open conns', 'RSS', 'RSS growth', 'RSS / client', 'heap / client', 'external / client', 'projected 1,000 clients'], rows, 2)
    const last = rows.at(-1) as Array<number>
    printTable('Memory vs goal', ['measure', 'measured', 'goal', 'verdict'], [
      ['RSS for 1,000 cached clients (projection from the 1,000 step)', `${(last[8] as number).toFixed(0)} MiB`, '< 1024 MiB', verdict((last[8] as number) < 1024)]
    ])
  } finally {
    await pool.close()
  }
}

export async function run (): Promise<void> {
  // fsync=off: creating 1,000 databases durably would take most of the time budget; the measured
  // requests only read.
  const pg = await startBenchPostgres({ fast: true, maxConnections: 1400 })
  let app: FastifyInstance | undefined
  try {
    app = await buildBenchApp(pg.url, {
      TENANT_POOL_MAX_CLIENTS: String(POOL_MAX_CLIENTS),
      TENANT_CONNECTION_BUDGET: String(CONNECTION_BUDGET)
    })
    const base = await listenLoopback(app)
    const started = performance.now()
    log(`creating ${TENANTS} tenants through the provisioning service, 4 at a time`)
    const tenants = await createTenants(app, TENANTS, 4, (done) => { if (done % 100 === 0) log(`  ${done}/${TENANTS} tenants`) })
    const setupS = (performance.now() - started) / 1000
    log(`${TENANTS} tenants in ${setupS.toFixed(1)} s (${(setupS * 1000 / TENANTS).toFixed(0)} ms each at concurrency 4)`)

    // First, while this process holds little garbage: measured after the scenarios, its RSS moved
    // by more than the clients themselves as the collector gave memory back.
    await memoryPerClient(app, tenants)

    const serverPid = await postmasterPid(pg.url)
    const floor = await newBackendCost(app, serverPid, tenants)
    const ten = tenants.slice(0, 10)
    const results: ScenarioResult[] = []
    for (const concurrency of CONCURRENCIES) {
      // The same tenant sequences at every concurrency.
      const random = prng(42)
      for (const [name, list, choose] of [
        ['10 tenants, uniform', ten, uniform(10, random)],
        ['10 tenants, Zipf(1.1)', ten, zipf(10, ZIPF_S, random)],
        ['1,000 tenants, uniform', tenants, uniform(TENANTS, random)],
        ['1,000 tenants, Zipf(1.1)', tenants, zipf(TENANTS, ZIPF_S, random)]
      ] as const) {
        log(`scenario ${name}: ${WARMUP} warm-up + ${REQUESTS} requests, ${concurrency} in flight`)
        results.push(await scenario(app, base, serverPid, list, name, concurrency, REQUESTS, choose))
      }
    }
    const summaries = results.map((r) => ({ r, s: summarize(r.results.map((x) => x.ms)), errors: r.results.filter((x) => x.status !== 200) }))
    printTable(`GET /api/me over loopback HTTP, pool max ${POOL_MAX_CLIENTS} clients x 2 connections (ms; CPU per request: this process incl. the load generator, and PostgreSQL)`,
      ['scenario', 'in flight', 'requests', 'distinct tenants', 'p50', 'p90', 'p99', 'max', 'req/s', 'errors', 'pool hits', 'pool misses', 'evictions', 'node CPU', 'PG CPU'],
      summaries.map(({ r, s, errors }) => [r.name, r.concurrency, r.results.length, r.distinct, s.p50, s.p90, s.p99, s.max, r.results.length / (r.wallMs / 1000), errors.length, r.hits, r.misses, r.evictions, r.nodeMs / r.results.length, r.serverMs / r.results.length]), 2)
    printTable('A new PostgreSQL backend in a tenant database (plain pg: connect as the tenant role, first query, disconnect; 200 databases one after another; ms each)',
      ['wall', 'node CPU', 'PG CPU', 'PG CPU at 95% misses: floor of uniform p50 at 16 in flight, if PostgreSQL had both cores'],
      [[floor.wallMs, floor.nodeMs, floor.serverMs, 16 * 0.95 * floor.serverMs / 2]], 2)
    const errorKinds = new Map<string, number>()
    for (const { errors } of summaries) {
      for (const e of errors) {
        let key = e.error ?? String(e.status)
        try { key = `${e.status} ${(JSON.parse(e.body) as { code?: string }).code ?? ''}` } catch {}
        errorKinds.set(key, (errorKinds.get(key) ?? 0) + 1)
      }
    }
    if (errorKinds.size > 0) console.log(`errors: ${[...errorKinds].map(([k, n]) => `${k} x${n}`).join(', ')}`)

    const totalErrors = summaries.reduce((n, x) => n + x.errors.length, 0)
    const goalRows: Array<Array<string | number>> = []
    for (const concurrency of CONCURRENCIES) {
      const at = summaries.filter((x) => x.r.concurrency === concurrency)
      const [tenU, tenZ, kU, kZ] = at as [typeof at[0], typeof at[0], typeof at[0], typeof at[0]]
      const tenP99 = Math.max(tenU.s.p99, tenZ.s.p99)
      goalRows.push(
        [`${concurrency} in flight: Zipf p99 at 1,000 / Zipf p99 at 10`, `${(kZ.s.p99 / tenZ.s.p99).toFixed(2)}x (${kZ.s.p99.toFixed(1)} / ${tenZ.s.p99.toFixed(1)} ms)`, '<= 2x', verdict(kZ.s.p99 / tenZ.s.p99 <= 2)],
        [`${concurrency} in flight: Zipf p99 at 1,000 / worst 10-tenant p99`, `${(kZ.s.p99 / tenP99).toFixed(2)}x (${kZ.s.p99.toFixed(1)} / ${tenP99.toFixed(1)} ms)`, '<= 2x', verdict(kZ.s.p99 / tenP99 <= 2)],
        [`${concurrency} in flight: uniform p99 at 1,000`, `${kU.s.p99.toFixed(1)} ms`, '<= 25 ms', verdict(kU.s.p99 <= 25)]
      )
    }
    goalRows.push(['errors (all scenarios)', String(totalErrors), '0', verdict(totalErrors === 0)])
    printTable('Routing vs goals', ['measure', 'measured', 'goal', 'verdict'], goalRows)
    const stats = app.pool.stats()
    const sessions = await withClient(pg.url, async (c) => Number((await c.query("SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend'")).rows[0].n))
    console.log(`\napp pool after the scenarios: ${stats.clients} clients, ${stats.openConnections} open connections (PostgreSQL sessions: ${sessions})`)
  } finally {
    await app?.close()
    await pg.stop()
  }
}
