import t from 'tap'
import { build, registerOrganization } from '../../helper.js'
import { startFakeTelnyx } from '../../helpers/fake-telnyx.js'
import { createTelnyxSigner } from '../../helpers/telnyx-signer.js'
import { createTelnyxSender } from '../../../src/messaging/telnyx/sender.js'
import { createMessagingWorker } from '../../../src/messaging/sending/worker.js'
import { wallTime } from '../../../src/messaging/sending/quiet-hours.js'
import { until } from '../../helpers/wait.js'

const FROM = '+13125550000'
const silent = { info: () => {}, warn: () => {}, error: () => {} }

async function setup (t: Parameters<typeof build>[0], env: Record<string, string> = {}, members = 2) {
  const fake = await startFakeTelnyx()
  t.teardown(async () => { await fake.close() })
  const app = await build(t, {
    TELNYX_API_KEY: 'KEYtest',
    TELNYX_PUBLIC_KEY: createTelnyxSigner().publicKeyBase64,
    TELNYX_BASE_URL: fake.baseUrl,
    MESSAGE_RATE_PER_SECOND: '0',
    QUIET_HOURS_START: '0',
    QUIET_HOURS_END: '0',
    ...env
  })
  const res = await registerOrganization(app)
  const tenantId = res.json().tenantId as string
  const headers = { authorization: `Bearer ${res.json().accessToken as string}` }
  await app.registry.tenant.update({ where: { id: tenantId }, data: { primaryPhoneNumber: FROM } })
  app.directory.invalidate(tenantId)
  await app.pool.withTenant(tenantId, async (db) => {
    await db.member.createMany({ data: Array.from({ length: members }, (_, i) => ({ firstName: `M${i}`, lastName: '', phone: `+1312${String(2000000 + i)}` })) })
  })
  const broadcast = async () => (await app.inject({ method: 'POST', url: '/api/messages', headers, payload: { text: 'Hello {{firstName}}' } })).json().id as string
  const status = async (id: string) => (await app.inject({ url: `/api/messages/${id}`, headers })).json() as { status: string, counts: Record<string, number> }
  return { app, fake, tenantId, headers, broadcast, status }
}

t.test('the per-number rate is respected', async (t) => {
  const { fake, broadcast, status } = await setup(t, { WORKER_ENABLED: 'true', MESSAGE_RATE_PER_SECOND: '5' }, 10)
  const id = await broadcast()
  await until(async () => (await status(id)).status === 'SENT')
  t.equal(fake.sent.length, 10)
  const times = fake.sent.map((s) => s.receivedAt.getTime()).sort((a, b) => a - b)
  const span = (times.at(-1) ?? 0) - (times[0] ?? 0)
  // 10 sends at 5/s leave the limiter over 1800 ms; they are timed where the fake receives them, and on
  // a loaded machine the first request can arrive late by up to one interval. Unthrottled takes ~50 ms.
  t.ok(span >= 1400, `10 sends at 5/s took ${span} ms`)
})

t.test('a 500 is retried and then succeeds; a 400 goes to the DeadLetterQueue', async (t) => {
  const { app, fake, tenantId, broadcast, status } = await setup(t, {}, 1)
  const worker = createMessagingWorker({
    boss: app.boss,
    pool: app.pool,
    directory: app.directory,
    log: silent,
    ratePerSecondPerNumber: 0,
    quietHours: { start: 0, end: 0 },
    retry: { baseDelayMs: 200 },
    sender: createTelnyxSender({ apiKey: 'KEYtest', baseUrl: fake.baseUrl, log: silent })
  })
  await worker.start()
  t.teardown(async () => { await worker.stop() })
  fake.failNext(500)
  const first = await broadcast()
  await until(async () => (await status(first)).status === 'SENT')
  t.equal(fake.requestCount, 2, 'one failure, one retry')
  t.equal(fake.sent.length, 1)
  t.match((await status(first)).counts, { SENT: 1 })

  fake.failNext(400)
  const second = await broadcast()
  await until(async () => ['SENT', 'FAILED'].includes((await status(second)).status))
  t.match(await status(second), { status: 'FAILED', counts: { FAILED: 1 } })
  await app.pool.withTenant(tenantId, async (db) => {
    const dead = await db.deadLetterQueue.findMany()
    t.equal(dead.length, 1)
    t.match(dead[0], { kind: 'sms', attempts: 1 })
    const r = await db.messageRecipient.findFirstOrThrow({ where: { messageId: second } })
    t.equal(r.errorCode, '10015')
  })
})

t.test('two workers never send to a recipient twice', async (t) => {
  const { app, fake, broadcast, status } = await setup(t, {}, 60)
  const sender = createTelnyxSender({ apiKey: 'KEYtest', baseUrl: fake.baseUrl, log: silent })
  const workers = [1, 2].map(() => createMessagingWorker({
    boss: app.boss, pool: app.pool, directory: app.directory, log: silent, ratePerSecondPerNumber: 0, quietHours: { start: 0, end: 0 }, sender, concurrency: 3
  }))
  const id = await broadcast()
  // Both also replay the same job explicitly, as a crashed-and-restarted worker would.
  await app.pool.withTenant((await app.registry.tenant.findFirstOrThrow()).id, async (db) => {
    const ids = (await db.messageRecipient.findMany({ where: { messageId: id }, select: { id: true } })).map((r) => r.id)
    const job = { tenantId: (await app.registry.tenant.findFirstOrThrow()).id, messageId: id, recipientIds: ids }
    await Promise.all([workers[0]?.processSendJob(job), workers[1]?.processSendJob(job), ...workers.map(async (w) => { await w.start() })])
  })
  t.teardown(async () => { for (const w of workers) await w.stop() })
  await until(async () => (await status(id)).status === 'SENT')
  await new Promise((resolve) => setTimeout(resolve, 1000))
  t.equal(fake.sent.length, 60)
  t.equal(new Set(fake.sent.map((s) => s.body.to)).size, 60)
})

t.test('quiet hours defer recipients (DEFERRED, nextAttemptAt), never drop them', async (t) => {
  const { app, fake, tenantId, broadcast } = await setup(t, {}, 1)
  const hour = wallTime(new Date(), 'America/Chicago').hour
  const worker = createMessagingWorker({
    boss: app.boss,
    pool: app.pool,
    directory: app.directory,
    log: silent,
    ratePerSecondPerNumber: 0,
    quietHours: { start: hour, end: (hour + 2) % 24 },
    sender: createTelnyxSender({ apiKey: 'KEYtest', baseUrl: fake.baseUrl, log: silent })
  })
  const id = await broadcast()
  await app.pool.withTenant(tenantId, async (db) => {
    const r = await db.messageRecipient.findFirstOrThrow({ where: { messageId: id } })
    await worker.processSendJob({ tenantId, messageId: id, recipientIds: [r.id] })
    const after = await db.messageRecipient.findFirstOrThrow({ where: { id: r.id } })
    t.equal(after.status, 'DEFERRED')
    t.ok(after.nextAttemptAt !== null && after.nextAttemptAt.getTime() > Date.now() + 3_600_000, 'deferred to the end of quiet hours')
    t.equal(wallTime(after.nextAttemptAt ?? new Date(), 'America/Chicago').hour, (hour + 2) % 24)
  })
  t.equal(fake.sent.length, 0)
  const jobs = await app.boss.fetch<{ messageId: string }>('message-send', { batchSize: 10, ignoreStartAfter: true })
  t.ok((jobs ?? []).some((j) => j.data.messageId === id), 're-enqueued for later')
})

t.test('a broadcast queued before a suspension or a lapse sends nothing when its turn comes', async (t) => {
  for (const [change, code] of [
    [{ status: 'SUSPENDED' }, 'TENANT_SUSPENDED'],
    [{ subscriptionStatus: 'PAST_DUE' }, 'SUBSCRIPTION_INACTIVE']
  ] as const) {
    const { app, fake, tenantId, broadcast } = await setup(t, {}, 3)
    const id = await broadcast()
    await app.registry.tenant.update({ where: { id: tenantId }, data: change })
    const worker = createMessagingWorker({
      boss: app.boss,
      pool: app.pool,
      directory: app.directory,
      log: silent,
      ratePerSecondPerNumber: 0,
      quietHours: { start: 0, end: 0 },
      sender: createTelnyxSender({ apiKey: 'KEYtest', baseUrl: fake.baseUrl, log: silent })
    })
    const recipients = await app.pool.withTenant(tenantId, async (db) => await db.messageRecipient.findMany({ where: { messageId: id }, select: { id: true } }))
    // The registry's change notice reaches the directory asynchronously.
    await until(async () => (await app.directory.get(tenantId)).status !== 'ACTIVE' || (await app.directory.get(tenantId)).subscriptionStatus !== 'TRIALING')
    await worker.processSendJob({ tenantId, messageId: id, recipientIds: recipients.map((r) => r.id) })
    t.equal(fake.sent.length, 0, `${code}: nothing sent`)
    const rows = await app.pool.withTenant(tenantId, async (db) => await db.messageRecipient.findMany({ where: { messageId: id }, select: { status: true, errorCode: true } }))
    t.same(rows.map((r) => `${r.status}/${r.errorCode ?? ''}`), Array(3).fill(`FAILED/${code}`))
  }
})

t.test('a suspension in the middle of a broadcast stops it after the batch being sent', async (t) => {
  const { app, fake, tenantId, broadcast } = await setup(t, {}, 6)
  const id = await broadcast()
  let batches = 0
  const worker = createMessagingWorker({
    boss: app.boss,
    pool: app.pool,
    log: silent,
    ratePerSecondPerNumber: 0,
    quietHours: { start: 0, end: 0 },
    claimBatchSize: 2,
    // The directory as the worker sees it: the organization is suspended while its first batch goes out.
    directory: { get: async (tid) => { const rec = await app.directory.get(tid); return batches++ < 2 ? rec : { ...rec, status: 'SUSPENDED' } } },
    sender: createTelnyxSender({ apiKey: 'KEYtest', baseUrl: fake.baseUrl, log: silent })
  })
  const recipients = await app.pool.withTenant(tenantId, async (db) => await db.messageRecipient.findMany({ where: { messageId: id }, select: { id: true } }))
  await worker.processSendJob({ tenantId, messageId: id, recipientIds: recipients.map((r) => r.id) })
  t.equal(fake.sent.length, 2, 'one batch of two went out')
  const rows = await app.pool.withTenant(tenantId, async (db) => await db.messageRecipient.groupBy({ by: ['status', 'errorCode'], where: { messageId: id }, _count: true }))
  t.same(rows.map((r) => [r.status, r.errorCode, r._count]).sort(), [['FAILED', 'TENANT_SUSPENDED', 4], ['SENT', null, 2]])
})

t.test('a number changed in the middle of a broadcast is used from the next batch on', async (t) => {
  const { app, fake, tenantId, broadcast } = await setup(t, {}, 4)
  const id = await broadcast()
  let batches = 0
  const worker = createMessagingWorker({
    boss: app.boss,
    pool: app.pool,
    log: silent,
    ratePerSecondPerNumber: 0,
    quietHours: { start: 0, end: 0 },
    claimBatchSize: 2,
    directory: { get: async (tid) => { const rec = await app.directory.get(tid); return batches++ < 2 ? rec : { ...rec, primaryPhoneNumber: '+13125550001' } } },
    sender: createTelnyxSender({ apiKey: 'KEYtest', baseUrl: fake.baseUrl, log: silent })
  })
  const recipients = await app.pool.withTenant(tenantId, async (db) => await db.messageRecipient.findMany({ where: { messageId: id }, select: { id: true } }))
  await worker.processSendJob({ tenantId, messageId: id, recipientIds: recipients.map((r) => r.id) })
  t.same(fake.sent.map((s) => s.body.from).sort(), ['+13125550000', '+13125550000', '+13125550001', '+13125550001'])
})
