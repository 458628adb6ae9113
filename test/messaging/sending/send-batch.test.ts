// Batched sending: a job's recipients are claimed and recorded a batch at a time, so database round
// trips grow with batches, not with recipients (what bounded throughput), and still once each.
import t from 'tap'
import { build, registerOrganization } from '../../helper.js'
import { startFakeTelnyx } from '../../helpers/fake-telnyx.js'
import { createTelnyxSender } from '../../../src/messaging/telnyx/sender.js'
import { createMessagingWorker } from '../../../src/messaging/sending/worker.js'
import type { TenantPrismaClient } from '../../../src/tenancy/tenant-pool.js'

const silent = { info: () => {}, warn: () => {}, error: () => {} }

/** Counts the statements a client is asked for: each call on it or on one of its models. */
function counting (db: TenantPrismaClient, count: { n: number }): TenantPrismaClient {
  const wrap = <T extends object>(target: T): T => new Proxy(target, {
    get (obj, prop) {
      const value: unknown = Reflect.get(obj, prop, obj)
      if (typeof value === 'function') return (...args: unknown[]) => { count.n++; return (value as (...a: unknown[]) => unknown).apply(obj, args) }
      if (typeof value === 'object' && value !== null && typeof prop === 'string' && !prop.startsWith('_')) return wrap(value)
      return value
    }
  })
  return wrap(db)
}

t.test('a 100-recipient job takes a handful of statements and sends each recipient once', async (t) => {
  const fake = await startFakeTelnyx()
  t.teardown(async () => { await fake.close() })
  const app = await build(t, { QUIET_HOURS_START: '0', QUIET_HOURS_END: '0' })
  const res = await registerOrganization(app)
  const tenantId = res.json().tenantId as string
  await app.registry.tenant.update({ where: { id: tenantId }, data: { primaryPhoneNumber: '+13125550000' } })
  app.directory.invalidate(tenantId)
  const ids = Array.from({ length: 100 }, (_, i) => `r${i}`)
  await app.pool.withTenant(tenantId, async (db) => {
    await db.message.create({ data: { id: 'm', body: 'x', status: 'QUEUED', recipientCount: 100, recipients: { create: ids.map((id, i) => ({ id, phone: `+1312${String(2000000 + i)}`, body: 'x' })) } } })
  })
  const count = { n: 0 }
  const worker = createMessagingWorker({
    boss: app.boss,
    directory: app.directory,
    log: silent,
    ratePerSecondPerNumber: 0,
    quietHours: { start: 0, end: 0 },
    pool: { withTenant: async (id, fn) => await app.pool.withTenant(id, async (db, lease) => await fn(counting(db, count), lease)) },
    sender: createTelnyxSender({ apiKey: 'KEYtest', baseUrl: fake.baseUrl, log: silent })
  })
  await worker.processSendJob({ tenantId, messageId: 'm', recipientIds: ids })
  t.equal(fake.sent.length, 100)
  t.ok(count.n <= 20, `${count.n} statements for 100 recipients`)
  await worker.processSendJob({ tenantId, messageId: 'm', recipientIds: ids })
  t.equal(fake.sent.length, 100, 'a replayed job sends nothing')
  t.equal(new Set(fake.sent.map((s) => s.body.to)).size, 100)
  await app.pool.withTenant(tenantId, async (db) => {
    t.equal(await db.messageRecipient.count({ where: { messageId: 'm', status: 'SENT', providerMessageId: { not: null } } }), 100)
    t.equal((await db.message.findUniqueOrThrow({ where: { id: 'm' } })).status, 'SENT')
  })
})
