// The routing goals measured against the physical floor (see routing-floor.ts), the number of tenants
// the budget keeps warm, and the pool's hit ratio against the offline optimum on the same trace.
import type { FastifyInstance } from 'fastify'
import { createTenantPool } from '../../src/tenancy/tenant-pool.js'
import { createTenants, type BenchTenant } from './app.js'
import { belady, lru, staticOptimum, type Chooser } from './cache-trace.js'
import { afterMigration, floorOnce, missOnce, unprewarmedClones } from './routing-floor.js'
import { log, median, printTable, summarize, verdict } from './stats.js'

type Row = Array<string | number>
const pct = (x: number): string => `${(x * 100).toFixed(1)}%`

/**
 * Floor and misses, interleaved one by one so that both see the same machine: `samples` of each on
 * established tenants, then a fifth as many on tenants signed up now, on clones without the prewarm,
 * and on tenants a fleet migration just changed (last: it moves the template).
 */
export async function floorAndMisses (app: FastifyInstance, serverUrl: string, tenants: BenchTenant[], samples: number): Promise<Row[]> {
  const few = Math.max(2, Math.ceil(samples / 5))
  // Misses on one half of the tenants, floors on the other, fillers from both: no floor sample warms
  // the database a miss is then measured in.
  const pick = (k: number, offset: number): BenchTenant[] => Array.from({ length: k }, (_, i) => tenants[(offset + i * 2) % tenants.length] as BenchTenant)
  const missTenants = pick(samples, 0)
  const floorTenants = pick(samples, 1)
  const fillers = [...tenants].reverse()
  let filler = 0
  // Never the tenant about to be measured (small runs have few tenants to choose from).
  const nextFiller = (not: BenchTenant): BenchTenant => {
    let f = fillers[filler++ % fillers.length] as BenchTenant
    while (f.tenantId === not.tenantId) f = fillers[filler++ % fillers.length] as BenchTenant
    return f
  }
  const url = async (t: BenchTenant): Promise<string> => (await app.directory.connectionInfo(t.tenantId)).url
  const floors: number[] = []
  const misses: number[] = []
  for (let i = 0; i < samples; i++) {
    floors.push(await floorOnce(await url(floorTenants[i] as BenchTenant), (floorTenants[i] as BenchTenant).adminId))
    misses.push(await missOnce(app, missTenants[i] as BenchTenant, nextFiller(missTenants[i] as BenchTenant)))
  }
  log(`floor and miss: ${samples} samples each`)
  const fresh = await createTenants(app, few, 1)
  const afterSignUp: number[] = []
  for (const t of fresh) afterSignUp.push(await missOnce(app, t, nextFiller(t)))
  const clones = await unprewarmedClones(app, serverUrl, few)
  log(`sign-ups and unprewarmed clones: ${few} each; migrating ${few} tenants of a registry of their own`)
  const migrated = await afterMigration(serverUrl, few)

  const floor = median(floors)
  const miss = median(misses)
  const rows: Row[] = []
  const line = (what: string, xs: number[]): Row => {
    const s = summarize(xs)
    return [what, xs.length, s.p50, s.p90, s.max, s.p50 / floor]
  }
  printTable('A miss against the physical floor (ms; x floor = p50 / floor p50)', ['measure', 'n', 'p50', 'p90', 'max', 'x floor'], [
    line('floor: plain pg, connect as the tenant role + first query', floors),
    line('pool miss (full pool: evicts an idle client) + first query (Prisma)', misses),
    line('first miss after sign-up (the clone was prewarmed)', afterSignUp),
    line('first miss after a fleet migration (prewarmed by the run)', migrated.misses),
    line('  floor in those migrated databases, right after', migrated.floors),
    line('floor, first backend in a clone made without the prewarm', clones.first),
    line('floor, second backend in that clone', clones.second)
  ], 2)
  rows.push(
    ['pool miss vs floor (p50)', `${(miss / floor).toFixed(2)}x (${miss.toFixed(1)} / ${floor.toFixed(1)} ms)`, '<= 1.25x', verdict(miss / floor <= 1.25)],
    ['first miss after sign-up vs other misses (p50)', `${(median(afterSignUp) / miss).toFixed(2)}x`, '<= 1x (noise: 1.1x)', verdict(median(afterSignUp) <= miss * 1.1)],
    ['first miss after a migration vs other misses (p50)', `${(median(migrated.misses) / miss).toFixed(2)}x`, '<= 1x (noise: 1.1x)', verdict(median(migrated.misses) <= miss * 1.1)],
    ['what the prewarm saves: first / second backend of an unprewarmed clone', `${(median(clones.first) / median(clones.second)).toFixed(2)}x`, '(context)', '']
  )
  return rows
}

/** Tenants touched one after another, more than the budget allows: how many stay warm, on how many connections. */
export async function warmTenants (app: FastifyInstance, tenants: BenchTenant[], serverUrl: string, sessions: (url: string) => Promise<number>): Promise<Row[]> {
  const server = (await app.servers.list())[0]
  const budget = Math.floor((server?.connectionBudget ?? app.config.pool.connectionBudget) / app.config.pool.processes)
  const expected = Math.min(tenants.length, budget, app.config.pool.maxClients)
  for (const t of tenants.slice(0, Math.min(tenants.length, budget + 20))) await app.pool.withTenant(t.tenantId, async (db) => await db.$queryRaw`SELECT 1`)
  // Let connections opened while busy close (500 ms idle) and evicted clients finish disconnecting.
  await new Promise((resolve) => setTimeout(resolve, 1500))
  const stats = app.pool.stats()
  const open = await sessions(serverUrl)
  printTable(`Tenants kept warm with the default budget (${budget} connections for this process, TENANT_CLIENT_CONNECTIONS ${app.config.pool.connectionsPerClient})`,
    ['tenants touched', 'cached clients', 'their connections', 'tenant sessions in pg_stat_activity'], [[Math.min(tenants.length, budget + 20), stats.clients, stats.openConnections, open]])
  return [
    ['tenants kept warm with the default budget', `${stats.clients} of ${expected} the budget allows`, `= ${expected}`, verdict(stats.clients === expected)],
    ['connections per idle cached client', `${(open / Math.max(1, stats.clients)).toFixed(2)} (${open} sessions)`, '1', verdict(open === stats.clients)]
  ]
}

/**
 * Replays a Zipf trace against a fresh pool with the app's settings, one request at a time, and
 * compares its hit ratio with Belady's on the same trace and cache size (warm-up counted in neither).
 */
export async function hitRatio (app: FastifyInstance, tenants: BenchTenant[], choose: Chooser, warmup: number, requests: number): Promise<Row[]> {
  const server = (await app.servers.list())[0]
  const budget = Math.floor((server?.connectionBudget ?? app.config.pool.connectionBudget) / app.config.pool.processes)
  const cacheSize = Math.min(app.config.pool.maxClients, budget)
  const trace = Array.from({ length: warmup + requests }, () => choose())
  const pool = createTenantPool({
    maxClients: app.config.pool.maxClients,
    connectionBudget: () => budget,
    connectionsPerClient: app.config.pool.connectionsPerClient,
    resolve: async (tenantId) => await app.directory.connectionInfo(tenantId)
  })
  let hits = 0
  try {
    for (let i = 0; i < trace.length; i++) {
      const before = pool.stats().hits
      await pool.withTenant((tenants[trace[i] as number] as BenchTenant).tenantId, async (db) => await db.$queryRaw`SELECT 1`)
      if (i >= warmup) hits += pool.stats().hits - before
      if ((i + 1) % 1000 === 0) log(`  trace ${i + 1}/${trace.length}`)
    }
  } finally {
    await pool.close()
  }
  const ours = hits / requests
  const best = belady(trace, cacheSize, warmup).ratio
  const fixed = staticOptimum(trace, cacheSize, warmup).ratio
  printTable(`Hit ratio on a Zipf(1.1) trace over ${tenants.length} tenants, ${warmup} + ${requests} requests, cache ${cacheSize} clients`,
    ['policy', 'hit ratio'], [
      ['tenant pool (segmented LRU), measured', pct(ours)],
      ["Belady's offline optimum (knows the future)", pct(best)],
      ['best static choice (the most requested tenants, known afterwards)', pct(fixed)],
      ['plain LRU (simulated)', pct(lru(trace, cacheSize, warmup).ratio)]
    ])
  return [
    ["hit ratio vs Belady's optimum", `${pct(ours)} vs ${pct(best)} (${((best - ours) * 100).toFixed(1)} points)`, '<= 3 points', verdict(best - ours <= 0.03)],
    ['hit ratio vs the best static choice (bound of online policies on independent draws)', `${pct(ours)} vs ${pct(fixed)}`, '(context)', '']
  ]
}
