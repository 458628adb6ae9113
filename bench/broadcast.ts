// Broadcast benchmark: enqueue a broadcast to 10,000 members (time until 202), then dispatch it to a
// fake Telnyx on loopback with the rate limit off, reporting messages/s and the worker's CPU time.
// Embedded PostgreSQL in a temp folder unless DATABASE_URL is set. Bounded to two minutes.
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { buildApp } from '../src/app.js'
import { loadConfig } from '../src/config.js'
import { startEmbeddedPostgres } from '../src/db/embedded-postgres.js'
import { ensureDatabase, withClient, withDatabase } from '../src/db/pg-admin.js'
import { createTelnyxSender } from '../src/messaging/telnyx/sender.js'
import { createMessagingWorker } from '../src/messaging/sending/worker.js'
import { startFakeTelnyx } from '../test/helpers/fake-telnyx.js'

const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 10_000)
const DEADLINE_MS = 120_000
const silent = { info: () => {}, warn: () => {}, error: () => {} }

export async function run (): Promise<void> {
  const dir = await mkdtemp(path.join(tmpdir(), 'church-sms-bench-'))
  const given = process.env.DATABASE_URL
  const pg = given === undefined || given === '' ? await startEmbeddedPostgres({ dir, fast: true, maxConnections: 200 }) : undefined
  const server = given !== undefined && given !== '' ? withDatabase(given, 'postgres') : (pg?.url ?? '')
  const registryName = `bench_registry_${randomBytes(4).toString('hex')}`
  await withClient(server, async (c) => { await ensureDatabase(c, registryName) })
  const fake = await startFakeTelnyx()
  const config = await loadConfig({
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: withDatabase(server, registryName),
    TENANT_DATABASE_URL: server,
    DATA_DIR: dir,
    WORKER_ENABLED: 'false',
    TELNYX_API_KEY: 'KEYbench',
    TELNYX_PUBLIC_KEY: Buffer.alloc(32, 1).toString('base64'),
    TELNYX_BASE_URL: fake.baseUrl,
    MESSAGE_RATE_PER_SECOND: '0',
    TENANT_CLIENT_CONNECTIONS: '10',
    QUIET_HOURS_START: '0',
    QUIET_HOURS_END: '0',
    JWT_SECRET: 'bench-jwt-secret-that-is-long-enough-0123456789',
    EMAIL_HASH_KEY: 'a'.repeat(64),
    ENCRYPTION_KEY: 'b'.repeat(64)
  })
  const app = await buildApp(config, { logger: false })
  const timer = setTimeout(() => { process.stderr.write('benchmark exceeded its time limit\n'); process.exit(1) }, DEADLINE_MS)
  try {
    const reg = await app.inject({ method: 'POST', url: '/api/auth/register', payload: { email: 'bench@example.org', password: 'correct horse battery staple', firstName: 'B', lastName: 'B', churchName: 'Bench Church' } })
    const { tenantId, accessToken } = reg.json() as { tenantId: string, accessToken: string }
    await app.registry.tenant.update({ where: { id: tenantId }, data: { primaryPhoneNumber: '+13125550000' } })
    app.directory.invalidate(tenantId)
    await app.pool.withTenant(tenantId, async (db) => {
      await db.member.createMany({ data: Array.from({ length: MEMBERS }, (_, i) => ({ firstName: `M${i}`, lastName: 'X', phone: `+1312${String(2000000 + i)}` })) })
    })

    if (process.env.BENCH_VERBOSE !== undefined) process.stderr.write('members ready\n')
    const t0 = performance.now()
    const res = await app.inject({ method: 'POST', url: '/api/messages', headers: { authorization: `Bearer ${accessToken}` }, payload: { text: 'Hello {{firstName}} from {{churchName}}' } })
    const enqueueMs = performance.now() - t0
    if (res.statusCode !== 202) throw new Error(`broadcast failed: ${res.body}`)
    const messageId = (res.json() as { id: string }).id

    const worker = createMessagingWorker({
      boss: app.boss,
      pool: app.pool,
      directory: app.directory,
      log: silent,
      ratePerSecondPerNumber: 0,
      quietHours: { start: 0, end: 0 },
      sender: createTelnyxSender({ apiKey: 'KEYbench', baseUrl: fake.baseUrl, log: silent }),
      concurrency: 8,
      sendsPerJob: 4,
      pollingIntervalSeconds: 0.5
    })
    const cpu0 = process.cpuUsage()
    const s0 = performance.now()
    await worker.start()
    let lastReport = 0
    while (fake.sent.length < MEMBERS) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      if (process.env.BENCH_VERBOSE !== undefined && performance.now() - lastReport > 2000) { lastReport = performance.now(); process.stderr.write(`sent ${fake.sent.length}\n`) }
    }
    const sendMs = performance.now() - s0
    const cpu = process.cpuUsage(cpu0)
    const readStatus = async (): Promise<string> => await app.pool.withTenant(tenantId, async (db) => (await db.message.findUniqueOrThrow({ where: { id: messageId } })).status)
    // The last job closes the message just after its final send.
    let status = await readStatus()
    for (let i = 0; i < 50 && status === 'SENDING'; i++) { await new Promise((resolve) => setTimeout(resolve, 100)); status = await readStatus() }
    await worker.stop()

    const rows = [
      ['recipients', String(MEMBERS)],
      ['enqueue (POST /api/messages -> 202)', `${enqueueMs.toFixed(0)} ms`],
      ['dispatch to fake Telnyx', `${sendMs.toFixed(0)} ms`],
      ['throughput', `${(MEMBERS / (sendMs / 1000)).toFixed(0)} messages/s`],
      ['process CPU during dispatch (user+system)', `${((cpu.user + cpu.system) / 1000).toFixed(0)} ms (${(((cpu.user + cpu.system) / 1000) / sendMs * 100).toFixed(0)}% of one core)`],
      ['duplicates at the fake', String(fake.sent.length - new Set(fake.sent.map((s) => s.body.to)).size)],
      ['message status', status]
    ]
    const width = Math.max(...rows.map((r) => r[0]?.length ?? 0))
    process.stdout.write(`\nbroadcast benchmark\n${rows.map(([k, v]) => `  ${(k ?? '').padEnd(width)}  ${v ?? ''}`).join('\n')}\n`)
  } finally {
    clearTimeout(timer)
    await app.close()
    await fake.close()
    await pg?.stop()
    await rm(dir, { recursive: true, force: true })
  }
}

if (import.meta.url === `file://${process.argv[1] ?? ''}`) await run()
