// Routing benchmark, with the pool at its default settings (TENANT_CONNECTION_BUDGET 100: 100 tenants
// kept warm on one connection each). In one run:
// - the physical floor of a miss (plain pg: connect as the tenant's role + first query) beside pool
//   misses in a full pool, the first miss after sign-up, after a fleet migration, and on a clone
//   made without the relation-cache prewarm (what the prewarm saves);
// - how many tenants the default budget keeps warm, and on how many connections;
// - the pool's hit ratio on a Zipf(1.1) trace over the tenants against Belady's offline optimum on
//   the same trace and cache size (and the best static choice, the bound of any online policy);
// - GET /api/me over loopback HTTP over 10 and all tenants, uniform and Zipf(1.1), 1 and 16 in flight;
// - the memory one cached tenant client costs.
// Sizes (smoke runs): ROUTING_BENCH_TENANTS, ROUTING_BENCH_REQUESTS, ROUTING_BENCH_SAMPLES, ROUTING_BENCH_BUDGET.
import type { FastifyInstance } from 'fastify'
import { withClient } from '../src/db/pg-admin.js'
import { createTenantPool, createTenantPrismaClient } from '../src/tenancy/tenant-pool.js'
import { buildBenchApp, createTenants, listenLoopback, type BenchTenant } from './lib/app.js'
import { prng, uniform, zipf, type Chooser } from './lib/cache-trace.js'
import { closedLoop, timedFetch, type Timed } from './lib/http.js'
import { cpuMeter, postmasterPid } from './lib/cpu.js'
import { getGc, settledMemory } from './lib/memory.js'
import { startBenchPostgres } from './lib/pg.js'
import { floorAndMisses, hitRatio, warmTenants } from './lib/routing-goals.js'
import { log, mapLimit, printTable, summarize, verdict } from './lib/stats.js'

const size = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback)
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number of at least 1`)
  return value
}
const TENANTS = size('ROUTING_BENCH_TENANTS', 1000)
// 1 in flight shows what routing adds to a request; 16 shows it under a load that keeps both cores busy.
const CONCURRENCIES = [1, 16] as const
const REQUESTS = size('ROUTING_BENCH_REQUESTS', 3000)
const WARMUP = Math.ceil(REQUESTS / 6)
// Floor and miss samples of each kind; sign-ups, migrations and unprewarmed clones take a fifth.
const SAMPLES = size('ROUTING_BENCH_SAMPLES', 100)
const ZIPF_S = 1.1
const MEMORY_STEPS = TENANTS >= 200 ? [200, 1000].filter((n) => n <= TENANTS) : [TENANTS]
// Bounds each scenario on a slow or busy machine: no request starts after this.
const SCENARIO_MAX_MS = 50_000

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
    // The pool's defaults: the goals are about what the default budget keeps warm. A smoke run over
    // few tenants may shrink the budget (ROUTING_BENCH_BUDGET) so that the pool still fills up.
    const budget = process.env.ROUTING_BENCH_BUDGET
    app = await buildBenchApp(pg.url, budget === undefined ? {} : { TENANT_CONNECTION_BUDGET: budget })
    const base = await listenLoopback(app)
    const started = performance.now()
    log(`creating ${TENANTS} tenants through the provisioning service, 4 at a time`)
    const tenants = await createTenants(app, TENANTS, 4, (done) => { if (done % 100 === 0) log(`  ${done}/${TENANTS} tenants`) })
    const setupS = (performance.now() - started) / 1000
    log(`${TENANTS} tenants in ${setupS.toFixed(1)} s (${(setupS * 1000 / TENANTS).toFixed(0)} ms each at concurrency 4)`)

    // First, while this process holds little garbage: measured after the scenarios, its RSS moved
    // by more than the clients themselves as the collector gave memory back.
    await memoryPerClient(app, tenants)

    const sessions = async (url: string): Promise<number> => await withClient(url, async (c) =>
      Number((await c.query("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'church-sms-tenant'")).rows[0].n))
    const goalRows: Array<Array<string | number>> = []
    goalRows.push(...await warmTenants(app, tenants, pg.url, sessions))
    log(`hit ratio: replaying a Zipf(1.1) trace of ${WARMUP} + ${REQUESTS} requests over ${TENANTS} tenants`)
    goalRows.push(...await hitRatio(app, tenants, zipf(TENANTS, ZIPF_S, prng(7)), WARMUP, REQUESTS))

    const serverPid = await postmasterPid(pg.url)
    const ten = tenants.slice(0, 10)
    const results: ScenarioResult[] = []
    for (const concurrency of CONCURRENCIES) {
      // The same tenant sequences at every concurrency.
      const random = prng(42)
      for (const [name, list, choose] of [
        ['10 tenants, uniform', ten, uniform(10, random)],
        ['10 tenants, Zipf(1.1)', ten, zipf(10, ZIPF_S, random)],
        [`${TENANTS} tenants, uniform`, tenants, uniform(TENANTS, random)],
        [`${TENANTS} tenants, Zipf(1.1)`, tenants, zipf(TENANTS, ZIPF_S, random)]
      ] as const) {
        log(`scenario ${name}: ${WARMUP} warm-up + ${REQUESTS} requests, ${concurrency} in flight`)
        results.push(await scenario(app, base, serverPid, list, name, concurrency, REQUESTS, choose))
      }
    }
    const summaries = results.map((r) => ({ r, s: summarize(r.results.map((x) => x.ms)), errors: r.results.filter((x) => x.status !== 200) }))
    printTable(`GET /api/me over loopback HTTP, pool at its defaults (${app.config.pool.maxClients} clients, one connection each while idle) (ms; CPU per request: this process incl. the load generator, and PostgreSQL)`,
      ['scenario', 'in flight', 'requests', 'distinct tenants', 'p50', 'p90', 'p99', 'max', 'req/s', 'errors', 'pool hits', 'pool misses', 'evictions', 'node CPU', 'PG CPU'],
      summaries.map(({ r, s, errors }) => [r.name, r.concurrency, r.results.length, r.distinct, s.p50, s.p90, s.p99, s.max, r.results.length / (r.wallMs / 1000), errors.length, r.hits, r.misses, r.evictions, r.nodeMs / r.results.length, r.serverMs / r.results.length]), 2)
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
    for (const concurrency of CONCURRENCIES) {
      const at = summaries.filter((x) => x.r.concurrency === concurrency)
      const [tenU, tenZ, kU, kZ] = at as [typeof at[0], typeof at[0], typeof at[0], typeof at[0]]
      const tenP99 = Math.max(tenU.s.p99, tenZ.s.p99)
      goalRows.push(
        [`${concurrency} in flight: Zipf p99 at ${TENANTS} / Zipf p99 at 10`, `${(kZ.s.p99 / tenZ.s.p99).toFixed(2)}x (${kZ.s.p99.toFixed(1)} / ${tenZ.s.p99.toFixed(1)} ms)`, '<= 2x', verdict(kZ.s.p99 / tenZ.s.p99 <= 2)],
        [`${concurrency} in flight: Zipf p99 at ${TENANTS} / worst 10-tenant p99`, `${(kZ.s.p99 / tenP99).toFixed(2)}x (${kZ.s.p99.toFixed(1)} / ${tenP99.toFixed(1)} ms)`, '<= 2x', verdict(kZ.s.p99 / tenP99 <= 2)],
        [`${concurrency} in flight: uniform p99 at ${TENANTS}`, `${kU.s.p99.toFixed(1)} ms`, '<= 25 ms', verdict(kU.s.p99 <= 25)]
      )
    }
    goalRows.push(['errors (all scenarios)', String(totalErrors), '0', verdict(totalErrors === 0)])
    const stats = app.pool.stats()
    console.log(`\napp pool after the scenarios: ${stats.clients} clients, ${stats.openConnections} open connections (tenant sessions in PostgreSQL: ${await sessions(pg.url)})`)
    // Last: the migration part moves the server's template past this app's schema.
    log(`floor and misses: ${SAMPLES} samples each`)
    goalRows.push(...await floorAndMisses(app, pg.url, tenants, SAMPLES))
    printTable('Routing vs goals', ['measure', 'measured', 'goal', 'verdict'], goalRows)
  } finally {
    await app?.close()
    await pg.stop()
  }
}
