// Inbound webhook benchmark: signed message.received webhooks through the real app over loopback HTTP,
// 50 in flight, spread over 100 tenants each with its own number, 10% of them sent twice; against a
// bare Fastify route doing one pg insert on the same PostgreSQL in the same run. Checks that every
// distinct message is stored exactly once. Each scenario is one closed loop whose first 1,000 requests
// warm it up and are not counted.
import { randomUUID } from 'node:crypto'
import Fastify from 'fastify'
import pg from 'pg'
import type { FastifyInstance } from 'fastify'
import { ensureDatabase, withClient, withDatabase } from '../src/db/pg-admin.js'
import { createTelnyxSigner } from '../test/helpers/telnyx-signer.js'
import { buildBenchApp, createTenants, listenLoopback } from './lib/app.js'
import { closedLoop, timedFetch, type Timed } from './lib/http.js'
import { cpuMeter, postmasterPid, type CpuMeter } from './lib/cpu.js'
import { startBenchPostgres, type BenchPostgres } from './lib/pg.js'
import { log, mapLimit, printTable, summarize, verdict } from './lib/stats.js'

const TENANTS = 100
const CONCURRENCY = 50
const WARMUP = 1000
const MESSAGES = 6000
const DUPLICATE_SHARE = 0.1

interface Run { name: string, results: Timed[], wallMs: number, nodeMs: number, serverMs: number }

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

function row (run: Run, baseline: Run | undefined): Array<string | number> {
  const s = summarize(run.results.map((r) => r.ms))
  const rps = run.results.length / (run.wallMs / 1000)
  const baseRps = baseline === undefined ? rps : baseline.results.length / (baseline.wallMs / 1000)
  const failed = run.results.filter((r) => r.status !== 200).length
  return [run.name, run.results.length, rps, `${((rps / baseRps) * 100).toFixed(0)}%`, s.p50, s.p99, s.max, failed, run.nodeMs / run.results.length, run.serverMs / run.results.length]
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
    // Signed before the clock starts: signing is Telnyx's work, and this process also plays Telnyx.
    // Telnyx's timestamps are accepted for 300 s; the whole run takes well under a minute.
    const signatures = new Map([...warm, ...sends].map((body) => [body, signer.sign(body)]))
    const postSigned = async (body: string): Promise<Timed> => await timedFetch(`${appUrl}/webhooks/telnyx`, {
      method: 'POST', headers: { 'content-type': 'application/json', ...signatures.get(body) }, body
    })
    const postBaseline = async (body: string): Promise<Timed> => await timedFetch(`${baseline!.url}/insert`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body
    })

    log(`measuring: ${sends.length} signed webhooks (${sends.length - measured.length} duplicates) vs ${sends.length} baseline inserts, ${CONCURRENCY} in flight, each after ${WARMUP} warm-up requests in the same run`)
    const serverPid = await postmasterPid(serverUrl)
    // One closed loop per scenario: the warm-up requests go first and are left out of the figures, so
    // both are measured in their steady state rather than in the burst a loop starts with.
    const measure = async (post: (body: string) => Promise<Timed>) => {
      let meter: CpuMeter | undefined
      let firstAt = 0
      const run = await closedLoop(WARMUP + sends.length, CONCURRENCY, async (i) => {
        if (i === WARMUP) {
          firstAt = performance.now()
          meter = cpuMeter(serverPid)
        }
        return await post(i < WARMUP ? warm[i]! : sends[i - WARMUP]!)
      })
      return { results: run.results.slice(WARMUP), wallMs: performance.now() - firstAt, ...meter!.stop() }
    }
    const base = await measure(postBaseline)
    const hooks = await measure(postSigned)
    const baseRun: Run = { name: 'bare Fastify + 1 pg insert', ...base }
    const hookRun: Run = { name: 'POST /webhooks/telnyx (signed)', ...hooks }

    const counts = await mapLimit(TENANTS, 10, async (i) => await app!.pool.withTenant(tenants[i]!.tenantId, async (db) =>
      await db.conversationMessage.count({ where: { direction: 'INBOUND' } })))
    const stored = counts.reduce((a, b) => a + b, 0)
    const distinct = WARMUP + MESSAGES
    const lost = Math.max(0, distinct - stored)
    const duplicated = Math.max(0, stored - distinct)
    const crossCheck = await mapLimit(TENANTS, 10, async (i) => await app!.pool.withTenant(tenants[i]!.tenantId, async (db) =>
      await db.conversationMessage.count({ where: { direction: 'INBOUND', toNumber: { not: numbers[i]! } } })))
    const misrouted = crossCheck.reduce((a, b) => a + b, 0)

    printTable(`Inbound webhooks: ${TENANTS} tenants, concurrency ${CONCURRENCY}, ${sends.length} requests (+${Math.round(DUPLICATE_SHARE * 100)}% duplicates)`,
      ['scenario', 'requests', 'req/s', 'vs baseline', 'p50 ms', 'p99 ms', 'max ms', 'non-200', 'node CPU ms/req', 'PG CPU ms/req'],
      [row(baseRun, baseRun), row(hookRun, baseRun)], 2)
    console.log('(node CPU is this whole process: the app or the baseline server, and the load generator that drives both)')
    const s = summarize(hooks.results.map((r) => r.ms))
    const ratio = (sends.length / (hooks.wallMs / 1000)) / (sends.length / (base.wallMs / 1000))
    printTable('Correctness and goals', ['check', 'measured', 'goal', 'verdict'], [
      ['throughput vs baseline', `${(ratio * 100).toFixed(0)}%`, '>= 50%', verdict(ratio >= 0.5)],
      ['webhook p99', `${s.p99.toFixed(1)} ms`, '<= 50 ms', verdict(s.p99 <= 50)],
      ['distinct messages sent (incl. warm-up)', distinct, '', ''],
      ['rows stored', stored, '', ''],
      ['lost', lost, '0', verdict(lost === 0)],
      ['duplicated', duplicated, '0', verdict(duplicated === 0)],
      ['stored in the wrong tenant', misrouted, '0', verdict(misrouted === 0)],
      ['duplicates recognized', app.webhookStats.duplicates, String(sends.length - measured.length), verdict(app.webhookStats.duplicates === sends.length - measured.length)]
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
