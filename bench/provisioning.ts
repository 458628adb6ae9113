// Provisioning benchmark.
// 1. Three ways to give a new tenant its schema, on one durable (fsync=on) embedded PostgreSQL. Each is
//    createTenantDatabase() with a different schema source, so each ends in the same tenant: its own
//    role, a database it owns that only it may connect to, the group's table grants.
//    (a) template clone: CREATE DATABASE ... TEMPLATE tenant_template (what sign-up does)
//    (b) CREATE DATABASE + every tenant migration applied in-process (migrateUp over one connection)
//    (c) CREATE DATABASE + a child process per tenant that pushes the Prisma schema:
//        `prisma db push --skip-generate --config prisma/tenant/prisma.config.ts` (WASM schema engine
//        through the pg adapter: what works offline), started with node directly (c1) and through npx (c2).
// 2. POST /api/auth/register through the real app over loopback HTTP, one at a time and 50 concurrent.
import { spawn } from 'node:child_process'
import { createRequire } from 'node:module'
import path from 'node:path'
import { Writable } from 'node:stream'
import { buildApp } from '../src/app.js'
import { loadMigrations, MIGRATION_SETS, migrateUp, type Migration } from '../src/db/migrator.js'
import { connect, quoteIdent, withAdminClient, withClient, withDatabase } from '../src/db/pg-admin.js'
import { newTenantId } from '../src/onboarding/sign-up.js'
import { createTenantDatabase, generateDatabasePassword, type SchemaSource } from '../src/tenancy/tenant-database.js'
import { ensureTemplate, grantTenantGroup } from '../src/tenancy/template.js'
import { benchConfig, listenLoopback, signupBody } from './lib/app.js'
import { closedLoop, postJson, type Timed } from './lib/http.js'
import { startBenchPostgres } from './lib/pg.js'
import { log, printTable, since, summarize, verdict } from './lib/stats.js'

const ROOT = path.resolve(import.meta.dirname, '..')
const ITERATIONS = { a: 15, b: 15, c: 5 }
const SIGNUP = { sequential: 30, concurrentTotal: 100, concurrency: 50 }
const TOO_MANY = /too many (clients|connections)|remaining connection slots/i

const INSTALLATION_ID = 'benchprovisioning'

async function timedTenant (adminUrl: string, schema?: SchemaSource): Promise<number> {
  const start = performance.now()
  await createTenantDatabase(adminUrl, newTenantId(), generateDatabasePassword(), INSTALLATION_ID, schema)
  return since(start)
}

async function strategyA (adminUrl: string): Promise<number> {
  return await timedTenant(adminUrl)
}

/** Reference: the floor any strategy pays, a bare CREATE DATABASE (copy of template1, no role, no schema). */
async function bareCreate (adminUrl: string): Promise<number> {
  const name = `bench_bare_${newTenantId()}`
  const start = performance.now()
  await withAdminClient(adminUrl, async (admin) => { await admin.query(`CREATE DATABASE ${quoteIdent(name)}`) })
  return since(start)
}

/** Runs `fill` on a new empty database, as the admin, then grants as the template does. */
const emptyDatabaseThen = (adminUrl: string, fill: (url: string) => Promise<void>): SchemaSource => async (admin, database) => {
  await admin.query(`CREATE DATABASE ${quoteIdent(database)}`)
  const url = withDatabase(adminUrl, database)
  await fill(url)
  await withClient(url, async (client) => {
    // migrateUp makes the migrator schema; the CLI push does not, and the grants name it.
    await client.query('CREATE SCHEMA IF NOT EXISTS migrator')
    await grantTenantGroup(client)
  })
}

async function strategyB (adminUrl: string, migrations: Migration[]): Promise<number> {
  return await timedTenant(adminUrl, emptyDatabaseThen(adminUrl, async (url) => {
    const client = await connect(url)
    try {
      await migrateUp(client, migrations)
    } finally {
      await client.end()
    }
  }))
}

const prismaCli = createRequire(import.meta.url).resolve('prisma/build/index.js')

async function strategyC (adminUrl: string, via: 'node' | 'npx'): Promise<number> {
  const args = ['db', 'push', '--skip-generate', '--accept-data-loss', '--config', 'prisma/tenant/prisma.config.ts']
  let pushed = ''
  const elapsed = await timedTenant(adminUrl, emptyDatabaseThen(adminUrl, async (url) => {
    pushed = url
    await new Promise<void>((resolve, reject) => {
      const child = via === 'node'
        ? spawn(process.execPath, [prismaCli, ...args], { cwd: ROOT, env: { ...process.env, PRISMA_DIFF_URL: url, PRISMA_HIDE_UPDATE_MESSAGE: '1' }, stdio: ['ignore', 'ignore', 'pipe'] })
        : spawn('npx', ['prisma', ...args], { cwd: ROOT, env: { ...process.env, PRISMA_DIFF_URL: url, PRISMA_HIDE_UPDATE_MESSAGE: '1' }, stdio: ['ignore', 'ignore', 'pipe'] })
      let stderr = ''
      child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
      child.on('error', reject)
      child.on('exit', (code) => { code === 0 ? resolve() : reject(new Error(`prisma db push exited ${code}: ${stderr.slice(-500)}`)) })
    })
  }))
  // The pushed schema must really be there, or the timing means nothing.
  const tables = await withClient(pushed, async (c) => Number((await c.query("SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'")).rows[0].n))
  if (tables < 10) throw new Error(`prisma db push left ${tables} tables in ${pushed}`)
  return elapsed
}

async function strategies (adminUrl: string): Promise<void> {
  const migrations = await loadMigrations(MIGRATION_SETS.tenant)
  const template = await ensureTemplate(adminUrl, migrations)
  const tableCount = await withClient(withDatabase(adminUrl, 'tenant_template'), async (c) =>
    Number((await c.query("SELECT count(*) AS n FROM pg_tables WHERE schemaname = 'public'")).rows[0].n))
  log(`template at ${template.version} (${migrations.length} migration file(s), ${tableCount} tables); warming up`)
  // One of each first: file caches, the CLI's module load, the template's pages.
  await strategyA(adminUrl)
  await strategyB(adminUrl, migrations)
  await strategyC(adminUrl, 'node')

  const samples = { a: [] as number[], b: [] as number[], c1: [] as number[], c2: [] as number[], bare: [] as number[] }
  // Interleaved, so that drift (cache warmth) touches every strategy alike; a CHECKPOINT before each
  // sample (not timed) keeps one strategy's pending writes from landing on the next one's clock. The
  // process-per-tenant runs come last: their child processes would otherwise disturb the others.
  const checkpoint = async (): Promise<void> => { await withAdminClient(adminUrl, async (c) => { await c.query('CHECKPOINT') }) }
  for (let i = 0; i < ITERATIONS.a; i++) {
    await checkpoint()
    samples.a.push(await strategyA(adminUrl))
    await checkpoint()
    if (i < ITERATIONS.b) samples.b.push(await strategyB(adminUrl, migrations))
    await checkpoint()
    samples.bare.push(await bareCreate(adminUrl))
    log(`provisioning strategies: round ${i + 1}/${ITERATIONS.a}`)
  }
  for (let i = 0; i < ITERATIONS.c; i++) {
    await checkpoint()
    samples.c1.push(await strategyC(adminUrl, 'node'))
    await checkpoint()
    samples.c2.push(await strategyC(adminUrl, 'npx'))
    log(`process per tenant: round ${i + 1}/${ITERATIONS.c}`)
  }
  const a = summarize(samples.a)
  const b = summarize(samples.b)
  const c1 = summarize(samples.c1)
  const c2 = summarize(samples.c2)
  const bare = summarize(samples.bare)
  printTable('Provisioning one tenant database (durable embedded PostgreSQL 18, fsync=on; ms)', ['strategy', 'n', 'p50', 'p99', 'min', 'max', 'p50 / (a)'], [
    ['(a) role + template clone (CREATE DATABASE TEMPLATE) + grants', a.n, a.p50, a.p99, a.min, a.max, 1],
    ['(b) role + CREATE DATABASE + migrateUp in-process + grants', b.n, b.p50, b.p99, b.min, b.max, b.p50 / a.p50],
    ['(c1) role + CREATE DATABASE + child `node prisma db push` + grants', c1.n, c1.p50, c1.p99, c1.min, c1.max, c1.p50 / a.p50],
    ['(c2) role + CREATE DATABASE + child `npx prisma db push` + grants', c2.n, c2.p50, c2.p99, c2.min, c2.max, c2.p50 / a.p50],
    ['reference: bare CREATE DATABASE, no role/schema', bare.n, bare.p50, bare.p99, bare.min, bare.max, bare.p50 / a.p50]
  ])
  printTable('Provisioning ratios vs goals (medians)', ['ratio', 'measured', 'goal', 'verdict'], [
    ['(b) / (a) in-process DDL vs clone', (b.p50 / a.p50).toFixed(1) + 'x', '>= 3x', verdict(b.p50 / a.p50 >= 3)],
    ['(c1) / (a) process per tenant (node) vs clone', (c1.p50 / a.p50).toFixed(1) + 'x', '>= 20x', verdict(c1.p50 / a.p50 >= 20)],
    ['(c2) / (a) process per tenant (npx) vs clone', (c2.p50 / a.p50).toFixed(1) + 'x', '>= 20x', verdict(c2.p50 / a.p50 >= 20)],
    ['p99 (b) / (a)', (b.p99 / a.p99).toFixed(1) + 'x', '', ''],
    ['p99 (c1) / (a)', (c1.p99 / a.p99).toFixed(1) + 'x', '', '']
  ])
}

/** Peak number of sessions on the server while `fn` runs, sampled every 20 ms. */
async function withPeakConnections<T> (adminUrl: string, fn: () => Promise<T>): Promise<{ result: T, peak: number, max: number }> {
  const probe = await connect(adminUrl)
  const max = Number((await probe.query('SHOW max_connections')).rows[0].max_connections)
  let peak = 0
  let running = true
  const sampler = (async () => {
    // eslint-disable-next-line no-unmodified-loop-condition -- cleared once fn settles
    while (running) {
      const n = Number((await probe.query('SELECT count(*) AS n FROM pg_stat_activity WHERE backend_type = $1', ['client backend'])).rows[0].n)
      peak = Math.max(peak, n)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  })()
  try {
    const result = await fn()
    return { result, peak, max }
  } finally {
    running = false
    await sampler.catch(() => {})
    await probe.end()
  }
}

function describeFailures (results: Timed[], logLines: string[]): { failures: number, tooMany: number, codes: string } {
  const failed = results.filter((r) => r.status !== 201)
  const codes = new Map<string, number>()
  for (const r of failed) {
    let code = r.error ?? String(r.status)
    try { code = `${r.status} ${(JSON.parse(r.body) as { code?: string }).code ?? ''}`.trim() } catch {}
    codes.set(code, (codes.get(code) ?? 0) + 1)
  }
  const tooMany = results.filter((r) => TOO_MANY.test(r.body)).length + logLines.filter((l) => TOO_MANY.test(l)).length
  return { failures: failed.length, tooMany, codes: [...codes].map(([c, n]) => `${c} x${n}`).join(', ') || '-' }
}

async function signups (adminUrl: string): Promise<void> {
  // Errors are logged at level "error" into memory so that "too many connections" can be counted.
  const logLines: string[] = []
  const stream = new Writable({ write (chunk: Buffer, _enc, done) { logLines.push(chunk.toString()); done() } })
  const app = await buildApp(await benchConfig(adminUrl, { LOG_LEVEL: 'error', TRUST_PROXY: 'true' }), { logger: { stream } })
  try {
    const base = await listenLoopback(app)
    // The auth routes allow 60 requests a minute per client IP (@fastify/rate-limit) and the app trusts
    // X-Forwarded-For (trustProxy: true): each sign-up comes from an address of its own, as real ones would.
    let ip = 0
    const register = async (i: number | string): Promise<Timed> => {
      ip++
      return await postJson(`${base}/api/auth/register`, signupBody(i), { 'x-forwarded-for': `10.${(ip >> 16) & 255}.${(ip >> 8) & 255}.${ip & 255}` })
    }
    log('sign-up: warm-up')
    for (let i = 0; i < 3; i++) await register(`warm${i}`)

    log(`sign-up: ${SIGNUP.sequential} one at a time`)
    const seqLines = logLines.length
    const seq = await withPeakConnections(adminUrl, async () => await closedLoop(SIGNUP.sequential, 1, async (i) => await register(`s${i}`)))
    const seqFail = describeFailures(seq.result.results, logLines.slice(seqLines))

    log(`sign-up: ${SIGNUP.concurrentTotal} with ${SIGNUP.concurrency} in flight`)
    const conLines = logLines.length
    const con = await withPeakConnections(adminUrl, async () => await closedLoop(SIGNUP.concurrentTotal, SIGNUP.concurrency, async (i) => await register(`c${i}`)))
    const conFail = describeFailures(con.result.results, logLines.slice(conLines))

    const row = (label: string, run: typeof seq, f: typeof seqFail): Array<string | number> => {
      const ok = run.result.results.filter((r) => r.status === 201).map((r) => r.ms)
      const s = summarize(run.result.results.map((r) => r.ms))
      return [label, run.result.results.length, s.p50, s.p99, s.max, ok.length / (run.result.wallMs / 1000), f.failures, f.tooMany, `${run.peak}/${run.max}`, f.codes]
    }
    printTable('POST /api/auth/register over loopback HTTP (durable PostgreSQL; ms, all requests)', ['load', 'n', 'p50', 'p99', 'max', 'sign-ups/s', 'failures', 'too many conns', 'peak PG sessions', 'failure codes'], [
      row('sequential (1 in flight)', seq, seqFail),
      row(`concurrent (${SIGNUP.concurrency} in flight)`, con, conFail)
    ])
    const seqP50 = summarize(seq.result.results.map((r) => r.ms)).p50
    const conP50 = summarize(con.result.results.map((r) => r.ms)).p50
    printTable('Sign-up vs goals', ['measure', 'measured', 'goal', 'verdict'], [
      ['p50 sequential', `${seqP50.toFixed(0)} ms`, '<= 250 ms', verdict(seqP50 <= 250)],
      [`p50 at ${SIGNUP.concurrency} concurrent`, `${conP50.toFixed(0)} ms`, '<= 250 ms', verdict(conP50 <= 250)],
      ['failures (both runs)', String(seqFail.failures + conFail.failures), '0', verdict(seqFail.failures + conFail.failures === 0)],
      ['"too many connections"', String(seqFail.tooMany + conFail.tooMany), '0', verdict(seqFail.tooMany + conFail.tooMany === 0)]
    ])
    const errors = logLines.filter((l) => l.includes('"level":50') || l.includes('"level":60'))
    if (errors.length > 0) console.log(`\n${errors.length} error log line(s); first: ${errors[0]?.slice(0, 600)}`)
    const stats = app.pool.stats()
    console.log(`\npool after sign-ups: ${stats.clients} clients, ${stats.openConnections} open connections, hits ${stats.hits}, misses ${stats.misses}, evictions ${stats.evictions}`)
  } finally {
    await app.close()
  }
}

export async function run (): Promise<void> {
  const pg = await startBenchPostgres({ fast: false, maxConnections: 300 })
  try {
    await strategies(pg.url)
    await signups(pg.url)
  } finally {
    await pg.stop()
  }
}
