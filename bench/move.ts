// `npm run bench -- move`: a tenant with about 16 MB of data moved between two local servers ten times
// (logical replication, no grace period) while a client writes 20 times a second and webhooks arrive.
// Prints the write freeze per move (server side, and the longest gap between acknowledged writes seen
// by the client), total move time, writes refused with 503 and retried, writes and webhooks lost and
// duplicated. Goals: freeze p95 <= 1 s, nothing lost or duplicated.
// Size for a smoke run: MOVE_BENCH_MB (tenant size, default 16) and MOVE_BENCH_MOVES (default 10).
import { randomUUID } from 'node:crypto'
import { withClient, withDatabase } from '../src/db/pg-admin.js'
import { createTelnyxSigner } from '../test/helpers/telnyx-signer.js'
import { buildBenchApp, createTenants, listenLoopback } from './lib/app.js'
import { startBenchPostgres } from './lib/pg.js'
import { log, percentile, printTable, summarize, verdict } from './lib/stats.js'

const MOVES = Number(process.env.MOVE_BENCH_MOVES ?? 10)
const WRITES_PER_SECOND = 20
const WEBHOOKS_PER_SECOND = 5
const TARGET_BYTES = Number(process.env.MOVE_BENCH_MB ?? 16) * 1024 * 1024
const SEED_BATCH = 2000
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

export async function run (): Promise<void> {
  const [a, b] = await Promise.all([startBenchPostgres({ fast: true, logicalReplication: true }), startBenchPostgres({ fast: true, logicalReplication: true })])
  if (a === undefined || b === undefined) throw new Error('servers did not start')
  const signer = createTelnyxSigner()
  const app = await buildBenchApp(a.url, { TELNYX_PUBLIC_KEY: signer.publicKeyBase64, MOVE_GRACE_MS: '0', MOVE_SETTLE_MS: '100' })
  try {
    const base = await listenLoopback(app)
    await app.serverAdmin.add({ name: 'b', url: b.url, kind: 'SHARED', connectionBudget: 80, maxTenants: 100, actor: 'bench' })
    const [tenant] = await createTenants(app, 1)
    if (tenant === undefined) throw new Error('no tenant')
    const number = '+13125550123'
    await app.phoneNumbers.add(tenant.tenantId, number)
    const row = await app.registry.tenant.findUniqueOrThrow({ where: { id: tenant.tenantId } })
    // Members with 256 bytes of notes, a batch at a time, until the tenant's tables and indexes hold
    // the target (the empty schema's catalog, about 9 MB, comes on top and is reported too).
    const DATA_SQL = "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'"
    const { bytes, databaseBytes } = await withClient(withDatabase(a.url, row.databaseName), async (c) => {
      const dataBytes = async (): Promise<number> => Number((await c.query(DATA_SQL)).rows[0]?.n)
      for (let i = 0; await dataBytes() < TARGET_BYTES; i += SEED_BATCH) {
        await c.query(`INSERT INTO "Member" (id, "firstName", "lastName", phone, notes, "updatedAt")
          SELECT gen_random_uuid()::text, 'Seed', 'Member ' || i, '+1999' || lpad(i::text, 7, '0'), repeat(md5(i::text), 8), now()
          FROM generate_series($1::int, $1::int + $2::int - 1) AS i`, [i, SEED_BATCH])
      }
      await c.query('ANALYZE')
      return { bytes: await dataBytes(), databaseBytes: Number((await c.query('SELECT pg_database_size(current_database()) AS n')).rows[0]?.n) }
    })
    log(`tenant data is ${(bytes / 1024 / 1024).toFixed(1)} MB (goal about ${TARGET_BYTES / 1024 / 1024} MB), its database ${(databaseBytes / 1024 / 1024).toFixed(1)} MB`)
    const auth = { authorization: `Bearer ${tenant.accessToken}`, 'content-type': 'application/json' }

    // The writer: a new member every 50 ms; a 503 is retried 100 ms later (its Retry-After says 1 s:
    // clients may retry sooner, and the freeze is what is measured).
    const acked: string[] = []
    const ackedAt: number[] = []
    let refused = 0
    let writeErrors = 0
    const stop = { now: false }
    let seq = 0
    const writer = (async () => {
      while (!stop.now) {
        const started = performance.now()
        const phone = `+1888${String(seq++).padStart(7, '0')}`
        for (;;) {
          const res = await fetch(`${base}/api/members`, { method: 'POST', headers: auth, body: JSON.stringify({ firstName: 'Load', lastName: String(seq), phone }) }).catch(() => null)
          if (res?.status === 201) { acked.push((await res.json() as { id: string }).id); ackedAt.push(performance.now()); break }
          if (res?.status === 503) { refused++; await res.text(); await sleep(100); continue }
          writeErrors++
          await res?.text()
          await sleep(100)
        }
        await sleep(Math.max(0, 1000 / WRITES_PER_SECOND - (performance.now() - started)))
      }
    })()
    const sentHooks: string[] = []
    let hookRetries = 0
    const hooks = (async () => {
      while (!stop.now) {
        const providerId = randomUUID()
        const body = JSON.stringify({
          data: {
            id: randomUUID(),
            event_type: 'message.received',
            occurred_at: new Date().toISOString(),
            record_type: 'event',
            payload: { id: providerId, direction: 'inbound', type: 'SMS', from: { phone_number: '+13125550199' }, to: [{ phone_number: number }], text: `hello ${sentHooks.length}`, media: [], errors: [] }
          }
        })
        // Telnyx retries until it gets a 200.
        for (;;) {
          const res = await fetch(`${base}/webhooks/telnyx`, { method: 'POST', headers: { 'content-type': 'application/json', ...signer.sign(body) }, body }).catch(() => null)
          await res?.text()
          if (res?.status === 200) break
          hookRetries++
          await sleep(200)
        }
        sentHooks.push(providerId)
        await sleep(1000 / WEBHOOKS_PER_SECOND)
      }
    })()

    await sleep(2000)
    const moves: Array<{ freezeMs: number, totalMs: number, gapMs: number, method: string }> = []
    for (let i = 0; i < MOVES; i++) {
      const to = i % 2 === 0 ? 'b' : 'default'
      const started = performance.now()
      const report = await app.moves.move(tenant.tenantId, to, { actor: 'bench' })
      const ended = performance.now()
      // The client's view: the longest wait between two acknowledged writes around the move.
      const around = ackedAt.filter((t) => t >= started - 1000 && t <= ended + 1000)
      let gapMs = 0
      for (let j = 1; j < around.length; j++) gapMs = Math.max(gapMs, (around[j] as number) - (around[j - 1] as number))
      moves.push({ freezeMs: report.freezeMs, totalMs: report.totalMs, gapMs, method: report.method })
      log(`move ${i + 1}/${MOVES} to ${to}: ${report.method}, frozen ${report.freezeMs} ms, ${report.totalMs} ms in all, ${report.rows} rows`)
      await sleep(1000)
    }
    stop.now = true
    await Promise.all([writer, hooks])
    await app.moves.recovery.reconcile()

    const final = await app.registry.tenant.findUniqueOrThrow({ where: { id: tenant.tenantId }, include: { server: true } })
    const finalUrl = final.server.name === 'b' ? b.url : a.url
    const { members, messages } = await withClient(withDatabase(finalUrl, final.databaseName), async (c) => ({
      members: (await c.query<{ id: string }>('SELECT id FROM "Member"')).rows.map((r) => r.id),
      messages: (await c.query<{ id: string }>('SELECT "providerMessageId" AS id FROM "ConversationMessage" WHERE direction = \'INBOUND\'')).rows.map((r) => r.id)
    }))
    const memberSet = new Set(members)
    const messageCounts = new Map<string, number>()
    for (const id of messages) messageCounts.set(id, (messageCounts.get(id) ?? 0) + 1)
    const lostWrites = acked.filter((id) => !memberSet.has(id)).length
    const lostHooks = sentHooks.filter((id) => !messageCounts.has(id)).length
    const dupHooks = [...messageCounts.values()].filter((n) => n > 1).length
    const dupWrites = acked.length - new Set(acked).size

    const freezeP95 = percentile(moves.map((m) => m.freezeMs), 95)
    const freeze = summarize(moves.map((m) => m.freezeMs))
    const gaps = summarize(moves.map((m) => m.gapMs))
    const totals = summarize(moves.map((m) => m.totalMs))
    printTable(`move: ${MOVES} moves of a ${(bytes / 1024 / 1024).toFixed(1)} MB tenant between two local servers, ${WRITES_PER_SECOND} writes/s, ${WEBHOOKS_PER_SECOND} webhooks/s`,
      ['measure', 'p50', 'p95', 'max', 'goal', 'verdict'], [
        ['write freeze, server (ms)', freeze.p50, freezeP95, freeze.max, '<= 1000 at p95', verdict(freezeP95 <= 1000)],
        ['longest gap between acked writes (ms)', gaps.p50, percentile(moves.map((m) => m.gapMs), 95), gaps.max, '', ''],
        ['total move time (ms)', totals.p50, percentile(moves.map((m) => m.totalMs), 95), totals.max, '', '']
      ], 0)
    printTable('move: writes and webhooks', ['measure', 'count', 'goal', 'verdict'], [
      ['writes acknowledged', acked.length, '', ''],
      ['writes refused with 503 and retried', refused, '', ''],
      ['writes failed otherwise', writeErrors, '0', verdict(writeErrors === 0)],
      ['writes lost', lostWrites, '0', verdict(lostWrites === 0)],
      ['writes duplicated', dupWrites, '0', verdict(dupWrites === 0)],
      ['webhooks sent (acknowledged 200)', sentHooks.length, '', ''],
      ['webhook retries (non-200)', hookRetries, '', ''],
      ['webhooks lost', lostHooks, '0', verdict(lostHooks === 0)],
      ['webhooks duplicated', dupHooks, '0', verdict(dupHooks === 0)]
    ], 0)
  } finally {
    await app.close()
    await Promise.all([a.stop(), b.stop()])
  }
}
