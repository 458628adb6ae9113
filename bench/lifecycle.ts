// Lifecycle benchmark: one tenant with about 16 MB of data (20,000 members, 100,000 messages):
// export time and peak RSS growth, backup time, restore to a verified and switched tenant, hard
// delete time; then the nightly backup's throughput over 100 small tenants. One run of each.
import pg from 'pg'
import type { FastifyInstance } from 'fastify'
import { withClient, withDatabase } from '../src/db/pg-admin.js'
import { buildBenchApp, createTenants } from './lib/app.js'
import { settledMemory } from './lib/memory.js'
import { startBenchPostgres } from './lib/pg.js'
import { log, printTable, since, verdict } from './lib/stats.js'

const MEMBERS = Number(process.env.BENCH_MEMBERS ?? 20_000)
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 100_000)
const FLEET = Number(process.env.BENCH_TENANTS ?? 100)

async function seed (app: FastifyInstance, serverUrl: string, tenantId: string): Promise<number> {
  const tenant = await app.registry.tenant.findUniqueOrThrow({ where: { id: tenantId } })
  return await withClient(withDatabase(serverUrl, tenant.databaseName), async (c: pg.Client) => {
    await c.query(`INSERT INTO "Member" (id, "firstName", "lastName", phone, email, notes, "updatedAt")
      SELECT gen_random_uuid(), 'First' || i, 'Last' || i, '+1312' || lpad(i::text, 7, '0'), 'member' || i || '@example.org', CASE WHEN i % 10 = 0 THEN 'Prefers evening calls' END, now()
      FROM generate_series(1, $1) i`, [MEMBERS])
    await c.query(`INSERT INTO "Message" (id, body, status, "recipientCount", "updatedAt", "createdAt")
      SELECT gen_random_uuid(), 'Service moves to ten on Sunday ' || i || ', see you there and bring a friend', 'SENT', 1, now(), now() - (i || ' minutes')::interval
      FROM generate_series(1, $1) i`, [MESSAGES])
    await c.query('ANALYZE')
    const size = await c.query<{ bytes: string }>("SELECT sum(pg_total_relation_size(c.oid))::text AS bytes FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'")
    return Number(size.rows[0]?.bytes ?? 0) / (1024 * 1024)
  })
}

/** Runs `fn` while sampling RSS every 10 ms; returns its time and the peak RSS above the settled start. */
async function withRss<T> (fn: () => Promise<T>): Promise<{ ms: number, peakMiB: number, result: T }> {
  const base = (await settledMemory()).rss
  let peak = process.memoryUsage().rss
  const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 10)
  const start = performance.now()
  try {
    const result = await fn()
    return { ms: since(start), peakMiB: Math.max(0, peak / (1024 * 1024) - base), result }
  } finally {
    clearInterval(timer)
  }
}

export async function run (): Promise<void> {
  const server = await startBenchPostgres({ fast: true })
  const app = await buildBenchApp(server.url)
  try {
    const [tenant] = await createTenants(app, 1)
    if (tenant === undefined) throw new Error('no tenant')
    const { tenantId, adminId } = tenant
    const dataMiB = await seed(app, server.url, tenantId)
    log(`tenant ${tenantId}: ${MEMBERS} members, ${MESSAGES} messages, ${dataMiB.toFixed(1)} MiB of tables and indexes`)

    const exported = await withRss(async () => {
      const view = await app.pool.withTenant(tenantId, async (db) => await app.exports.request(db, tenantId, adminId))
      await app.exports.run({ tenantId, exportId: view.id })
      return await app.pool.withTenant(tenantId, async (db) => await app.exports.get(db, tenantId, view.id))
    })
    if (exported.result.status !== 'COMPLETED') throw new Error(`export ${exported.result.status}`)
    const backedUp = await withRss(async () => await app.backups.backup(tenantId, 'manual'))
    const restored = await withRss(async () => await app.restores.restore(tenantId, { backupId: backedUp.result.id }))
    const members = await app.pool.withTenant(tenantId, async (db) => await db.member.count())
    if (restored.result.state !== 'SWITCHED' || members !== MEMBERS) throw new Error(`restore ended ${restored.result.state} with ${members} members`)
    const deleted = await withRss(async () => await app.hardDelete.hardDelete(tenantId, { requestedBy: 'operator', reason: 'benchmark' }))

    log(`creating ${FLEET} tenants for the nightly run`)
    await createTenants(app, FLEET, 4)
    const concurrency = app.config.lifecycle.backupConcurrency
    const nightly = await withRss(async () => await app.backups.backupAll({ concurrency, kind: 'daily' }))
    if (nightly.result.failed.length > 0) throw new Error(`nightly run: ${nightly.result.failed.length} failed`)
    const perSecond = FLEET / (nightly.ms / 1000)

    printTable(`lifecycle: one tenant of ${dataMiB.toFixed(1)} MiB (${MEMBERS} members, ${MESSAGES} messages); nightly run over ${FLEET} tenants`, ['operation', 'time ms', 'peak RSS growth MiB', 'result', 'goal', 'verdict'], [
      ['export (request + worker, tar.gz)', exported.ms, exported.peakMiB, `${((exported.result.bytes ?? 0) / (1024 * 1024)).toFixed(1)} MiB archive`, 'RSS growth < 100 MiB', verdict(exported.peakMiB < 100)],
      ['backup (COPY, sealed)', backedUp.ms, backedUp.peakMiB, `${(Number(backedUp.result.bytes) / (1024 * 1024)).toFixed(1)} MiB file`, '', ''],
      ['restore, verified and switched', restored.ms, restored.peakMiB, `${restored.result.tables.reduce((n, t) => n + t.rows, 0)} rows verified`, '<= 2000 ms', verdict(restored.ms <= 2000)],
      ['hard delete', deleted.ms, deleted.peakMiB, `${String(deleted.result.removed.databases)} databases dropped`, '', ''],
      [`nightly backup, concurrency ${concurrency}`, nightly.ms, nightly.peakMiB, `${perSecond.toFixed(1)} tenants/s`, '', '']
    ])
  } finally {
    await app.close()
    await server.stop()
  }
}
