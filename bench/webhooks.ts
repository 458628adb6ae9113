// Inbound webhook benchmark: signed message.received webhooks through the real app over loopback HTTP,
// 50 in flight, spread over 100 tenants each with its own number, 10% of them sent twice; against a
// bare Fastify route doing one pg insert on the same PostgreSQL in the same run. Checks that every
// distinct message answered 200 is stored exactly once. Each scenario first sends 1,000 warm-up
// requests that are not counted.
//
// Processes: this one runs PostgreSQL (embedded, its own processes), the app and the baseline server;
// the load generator (autocannon, bench/lib/load-generator.ts) runs in a child process, so its
// request building, parsing and garbage collection are not charged to the server measured.
// Sizes (smoke runs): WEBHOOK_BENCH_TENANTS, WEBHOOK_BENCH_MESSAGES, WEBHOOK_BENCH_WARMUP.
import { randomUUID } from 'node:crypto'
import Fastify from 'fastify'
import pg from 'pg'
import type { FastifyInstance } from 'fastify'
import { ensureDatabase, withClient, withDatabase } from '../src/db/pg-admin.js'
import { createTelnyxSigner } from '../test/helpers/telnyx-signer.js'
import { buildBenchApp, createTenants, listenLoopback } from './lib/app.js'
import { cpuMeter, postmasterPid } from './lib/cpu.js'
import { runLoad, type LoadRequest, type LoadResult } from './lib/load.js'
import { startBenchPostgres, type BenchPostgres } from './lib/pg.js'
import { log, mapLimit, printTable, summarize, verdict } from './lib/stats.js'

const size = (name: string, fallback: number): number => {
  const value = Number(process.env[name] ?? fallback)
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a whole number of at least 1`)
  return value
}
const TENANTS = size('WEBHOOK_BENCH_TENANTS', 100)
const CONCURRENCY = 50
const WARMUP = size('WEBHOOK_BENCH_WARMUP', 1000)
const MESSAGES = size('WEBHOOK_BENCH_MESSAGES', 6000)
const DUPLICATE_SHARE = 0.1

interface Run { name: string, load: LoadResult, nodeMs: number, serverMs: number }

function event (to: string, from: string, i: number): string {
  const now = new Date().toISOString()
  return JSON.stringify({
    data: {
      id: randomUUID(),
      event_type: 'message.received',
      occurred_at: now,
      record_type: 'event',
      payload: {
        id: randomUUID(),
        direction: 'inbound',
        type: 'SMS',
        from: { phone_number: from, carrier: 'T-Mobile', line_type: 'Wireless' },
        to: [{ phone_number: to, status: 'webhook_delivered' }],
        text: `Bench message ${i}: see you on Sunday`,
        media: [],
        errors: [],
        received_at: now
      }
    },
    meta: { attempt: 1 }
  })
}

/** Each distinct body once, plus DUPLICATE_SHARE of them again, each duplicate after its original. */
function withDuplicates (bodies: string[]): string[] {
  const out = [...bodies]
  const extra = Math.round(bodies.length * DUPLICATE_SHARE)
  for (let k = 0; k < extra; k++) {
    const original = Math.floor((k / extra) * bodies.length)
    const at = Math.min(out.length, original + 1 + Math.floor(Math.random() * 200))
    out.splice(at, 0, bodies[original] as string)
  }
  return out
}

async function baselineServer (serverUrl: string): Promise<{ url: string, close: () => Promise<void> }> {
  const name = `bench_baseline_${randomUUID().slice(0, 8)}`
  await withClient(serverUrl, async (c) => { await ensureDatabase(c, name) })
  const pool = new pg.Pool({ connectionString: withDatabase(serverUrl, name), max: CONCURRENCY })
  await pool.query('CREATE TABLE IF NOT EXISTS inbound (id text PRIMARY KEY, body jsonb NOT NULL, created_at timestamptz NOT NULL DEFAULT now())')
  const app = Fastify({ logger: false, bodyLimit: 1024 * 1024 })
  app.post('/insert', async (request) => {
    await pool.query('INSERT INTO inbound (id, body) VALUES ($1, $2)', [randomUUID(), request.body])
    return { ok: true }
  })
  const url = await app.listen({ host: '127.0.0.1', port: 0 })
  return { url, close: async () => { await app.close(); await pool.end() } }
}

const rps = (run: Run): number => run.load.answered / (run.load.wallMs / 1000)

function row (run: Run, baseline: Run): Array<string | number> {
  const s = summarize(run.load.latenciesMs)
  const failed = run.load.answered - run.load.ok.length + run.load.errors + run.load.timeouts
  return [run.name, run.load.answered, rps(run), `${((rps(run) / rps(baseline)) * 100).toFixed(0)}%`, s.p50, s.p99, s.max, failed, run.nodeMs / run.load.answered, run.serverMs / run.load.answered]
}

export async function run (): Promise<void> {
  const given = process.env.DATABASE_URL
  let server: BenchPostgres | undefined
  const serverUrl = given !== undefined && given !== '' ? withDatabase(given, 'postgres') : (server = await startBenchPostgres({ fast: true, maxConnections: 600 })).url
  let app: FastifyInstance | undefined
  let baseline: { url: string, close: () => Promise<void> } | undefined
  try {
    const signer = createTelnyxSigner()
    app = await buildBenchApp(serverUrl, {
      TELNYX_PUBLIC_KEY: signer.publicKeyBase64,
      TENANT_POOL_MAX_CLIENTS: String(TENANTS + 10),
      TENANT_CONNECTION_BUDGET: String((TENANTS + 10) * 2),
      TENANT_CLIENT_CONNECTIONS: '2'
    })
    const started = performance.now()
    const tenants = await createTenants(app, TENANTS, 8)
    const numbers = tenants.map((_, i) => `+1312${String(5_000_000 + i).padStart(7, '0')}`)
    await mapLimit(TENANTS, 8, async (i) => { await app!.phoneNumbers.add(tenants[i]!.tenantId, numbers[i]!) })
    log(`${TENANTS} tenants with a number each in ${((performance.now() - started) / 1000).toFixed(1)} s`)

    const appUrl = await listenLoopback(app)
    baseline = await baselineServer(serverUrl)
    const sender = (i: number): string => `+1773${String(2_000_000 + (i % 1000)).padStart(7, '0')}`
    const makeBodies = (n: number, offset: number): string[] => Array.from({ length: n }, (_, i) => event(numbers[(offset + i) % TENANTS]!, sender(offset + i), offset + i))
    const warm = makeBodies(WARMUP, 0)
    const measured = makeBodies(MESSAGES, WARMUP)
    const sends = withDuplicates(measured)
    // Signed before the load starts: signing is Telnyx's work. Telnyx's timestamps are accepted for
    // 300 s; the whole run takes well under that.
    const json = { 'content-type': 'application/json' }
    const signed = (body: string): LoadRequest => ({ method: 'POST', path: '/webhooks/telnyx', headers: { ...json, ...signer.sign(body) }, body })
    const plain = (body: string): LoadRequest => ({ method: 'POST', path: '/insert', headers: json, body })

    log(`measuring: ${sends.length} signed webhooks (${sends.length - measured.length} duplicates) vs ${sends.length} baseline inserts, ${CONCURRENCY} in flight, each after ${WARMUP} warm-up requests, load from a child process (autocannon)`)
    const serverPid = await postmasterPid(serverUrl)
    const measure = async (name: string, url: string, request: (body: string) => LoadRequest): Promise<Run> => {
      // The meter spans the warm-up too (the child runs both); per request it is divided by all of them.
      const meter = cpuMeter(serverPid)
      const load = await runLoad({ url, connections: CONCURRENCY, warmup: warm.map(request), measured: sends.map(request) })
      const cpu = meter.stop()
      const all = (WARMUP + sends.length) / sends.length
      return { name, load, nodeMs: cpu.nodeMs / all, serverMs: cpu.serverMs / all }
    }
    const baseRun = await measure('bare Fastify + 1 pg insert', baseline.url, plain)
    const hookRun = await measure('POST /webhooks/telnyx (signed)', appUrl, signed)

    const counts = await mapLimit(TENANTS, 10, async (i) => await app!.pool.withTenant(tenants[i]!.tenantId, async (db) =>
      await db.conversationMessage.count({ where: { direction: 'INBOUND' } })))
    const stored = counts.reduce((a, b) => a + b, 0)
    // The warm-up's messages are all distinct and each sent once; of the measured ones, those answered 200.
    const answeredDistinct = new Set(hookRun.load.ok.map((i) => sends[i])).size
    const distinct = WARMUP + answeredDistinct
    const lost = Math.max(0, distinct - stored)
    const duplicated = Math.max(0, stored - distinct)
    const crossCheck = await mapLimit(TENANTS, 10, async (i) => await app!.pool.withTenant(tenants[i]!.tenantId, async (db) =>
      await db.conversationMessage.count({ where: { direction: 'INBOUND', toNumber: { not: numbers[i]! } } })))
    const misrouted = crossCheck.reduce((a, b) => a + b, 0)
    const duplicatesSent = hookRun.load.ok.length - answeredDistinct

    printTable(`Inbound webhooks: ${TENANTS} tenants, ${CONCURRENCY} in flight, ${sends.length} requests (+${Math.round(DUPLICATE_SHARE * 100)}% duplicates), load generator in its own process`,
      ['scenario', 'answered', 'req/s', 'vs baseline', 'p50 ms', 'p99 ms', 'max ms', 'non-2xx/errors', 'server CPU ms/req', 'PG CPU ms/req'],
      [row(baseRun, baseRun), row(hookRun, baseRun)], 2)
    console.log('(server CPU is this process only: the app or the baseline server; the load generator is a child process)')
    const hookP99 = summarize(hookRun.load.latenciesMs).p99
    const baseP99 = summarize(baseRun.load.latenciesMs).p99
    const ratio = rps(hookRun) / rps(baseRun)
    printTable('Correctness and goals', ['check', 'measured', 'goal', 'verdict'], [
      ['throughput vs baseline', `${(ratio * 100).toFixed(0)}% (${rps(hookRun).toFixed(0)} / ${rps(baseRun).toFixed(0)} req/s)`, '>= 50%', verdict(ratio >= 0.5)],
      [`webhook p99 at ${CONCURRENCY} in flight`, `${hookP99.toFixed(1)} ms`, '<= 50 ms', verdict(hookP99 <= 50)],
      ['webhook p99 vs baseline p99', `${(hookP99 / baseP99).toFixed(2)}x (${hookP99.toFixed(1)} / ${baseP99.toFixed(1)} ms)`, '<= 2x', verdict(hookP99 <= 2 * baseP99)],
      ['distinct messages answered 200 (incl. warm-up)', distinct, '', ''],
      ['rows stored', stored, '', ''],
      ['lost', lost, '0', verdict(lost === 0)],
      ['duplicated', duplicated, '0', verdict(duplicated === 0)],
      ['stored in the wrong tenant', misrouted, '0', verdict(misrouted === 0)],
      ['duplicates recognized', app.webhookStats.duplicates, String(duplicatesSent), verdict(app.webhookStats.duplicates === duplicatesSent)]
    ])
  } finally {
    await baseline?.close().catch(() => {})
    await app?.close().catch(() => {})
    await server?.stop()
  }
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) {
  run().catch((error: unknown) => { console.error(error); process.exitCode = 1 })
}
