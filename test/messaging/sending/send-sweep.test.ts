// The send sweep: recipients whose jobs were lost in a crash are sent exactly once; recipients left
// SENDING by a crash are reported (FAILED, SEND_STATE_UNKNOWN, DeadLetterQueue), never resent.
import t from 'tap'
import { build, registerOrganization } from '../../helper.js'
import { startFakeTelnyx } from '../../helpers/fake-telnyx.js'
import { createTelnyxSigner } from '../../helpers/telnyx-signer.js'
import type { SendJob } from '../../../src/messaging/sending/send-queue.js'

const FROM = '+13125550000'

async function setup (t: Parameters<typeof build>[0]) {
  const fake = await startFakeTelnyx()
  t.teardown(async () => { await fake.close() })
  const app = await build(t, {
    TELNYX_API_KEY: 'KEYtest',
    TELNYX_PUBLIC_KEY: createTelnyxSigner().publicKeyBase64,
    TELNYX_BASE_URL: fake.baseUrl,
    MESSAGE_RATE_PER_SECOND: '0',
    QUIET_HOURS_START: '0',
    QUIET_HOURS_END: '0'
  })
  const res = await registerOrganization(app)
  const tenantId = res.json().tenantId as string
  const headers = { authorization: `Bearer ${res.json().accessToken as string}` }
  await app.registry.tenant.update({ where: { id: tenantId }, data: { primaryPhoneNumber: FROM } })
  app.directory.invalidate(tenantId)
  const sql = async (query: string) => await app.pool.withTenant(tenantId, async (db) => await db.$executeRawUnsafe(query))
  /** Runs every send job waiting now, as a worker would. */
  const drain = async (): Promise<number> => {
    const jobs = await app.boss.fetch<SendJob>('message-send', { batchSize: 100 }) ?? []
    for (const job of jobs) await app.messagingWorker.processSendJob(job.data)
    if (jobs.length > 0) await app.boss.complete('message-send', jobs.map((j) => j.id))
    return jobs.length
  }
  return { app, fake, tenantId, headers, sql, drain }
}

t.test('recipients whose jobs were lost are sent once by the sweep, and only once', async (t) => {
  const { app, fake, tenantId, sql, drain } = await setup(t)
  // The crash: message and recipients committed, no job ever enqueued.
  await app.pool.withTenant(tenantId, async (db) => {
    await db.message.create({
      data: {
        id: 'lost',
        body: 'Hi',
        status: 'QUEUED',
        recipientCount: 3,
        recipients: { create: ['+13125550101', '+13125550102', '+13125550103'].map((phone) => ({ phone, body: `Hi ${phone}` })) }
      }
    })
  })
  t.equal(await drain(), 0, 'no job exists')
  t.match(await app.messagingWorker.sweep(), { requeued: 0 }, 'a just-written message is not taken for lost yet')
  await sql('UPDATE "MessageRecipient" SET "updatedAt" = (now() AT TIME ZONE \'UTC\') - interval \'5 minutes\'')

  t.match(await app.messagingWorker.sweep(), { requeued: 3, unknown: 0 })
  t.match(await app.messagingWorker.sweep(), { requeued: 0 }, 'a second sweep before the jobs run adds nothing')
  t.ok(await drain() > 0)
  t.same(fake.sent.map((s) => s.body.to).sort(), ['+13125550101', '+13125550102', '+13125550103'])

  await sql('UPDATE "MessageRecipient" SET "updatedAt" = (now() AT TIME ZONE \'UTC\') - interval \'5 minutes\'')
  t.match(await app.messagingWorker.sweep(), { requeued: 0, unknown: 0 })
  t.equal(await drain(), 0)
  t.equal(fake.sent.length, 3, 'nothing sent twice')
  await app.pool.withTenant(tenantId, async (db) => {
    t.equal((await db.message.findUniqueOrThrow({ where: { id: 'lost' } })).status, 'SENT')
  })
})

t.test('recipients whose jobs are still queued are left to those jobs', async (t) => {
  const { app, fake, tenantId, headers, sql, drain } = await setup(t)
  await app.pool.withTenant(tenantId, async (db) => {
    await db.member.createMany({ data: [{ firstName: 'Ann', lastName: '', phone: '+13125550101' }, { firstName: 'Bob', lastName: '', phone: '+13125550102' }] })
  })
  const sent = await app.inject({ method: 'POST', url: '/api/messages', headers, payload: { text: 'Hi' } })
  t.equal(sent.statusCode, 202, sent.body)
  await sql('UPDATE "MessageRecipient" SET "updatedAt" = (now() AT TIME ZONE \'UTC\') - interval \'5 minutes\'')
  t.match(await app.messagingWorker.sweep(), { requeued: 0 }, 'the live jobs cover them')
  await drain()
  t.equal(fake.sent.length, 2)
})

t.test('a recipient left SENDING past ten minutes is reported, never resent', async (t) => {
  const { app, fake, tenantId, sql, drain } = await setup(t)
  await app.pool.withTenant(tenantId, async (db) => {
    await db.message.create({ data: { id: 'old', body: 'x', status: 'SENDING', recipientCount: 1, recipients: { create: [{ id: 'r-old', phone: '+13125550101', body: 'x', status: 'SENDING', attempts: 1 }] } } })
    await db.message.create({ data: { id: 'new', body: 'x', status: 'SENDING', recipientCount: 1, recipients: { create: [{ id: 'r-new', phone: '+13125550102', body: 'x', status: 'SENDING', attempts: 1 }] } } })
  })
  await sql('UPDATE "MessageRecipient" SET "updatedAt" = (now() AT TIME ZONE \'UTC\') - interval \'11 minutes\' WHERE id = \'r-old\'')
  await sql('UPDATE "MessageRecipient" SET "updatedAt" = (now() AT TIME ZONE \'UTC\') - interval \'1 minute\' WHERE id = \'r-new\'')

  t.match(await app.messagingWorker.sweep(), { unknown: 1, requeued: 0 })
  t.match(await app.messagingWorker.sweep(), { unknown: 0, requeued: 0 }, 'reported once')
  t.equal(await drain(), 0, 'no job to resend it')
  t.equal(fake.sent.length, 0)
  await app.pool.withTenant(tenantId, async (db) => {
    t.match(await db.messageRecipient.findUniqueOrThrow({ where: { id: 'r-old' } }), { status: 'FAILED', errorCode: 'SEND_STATE_UNKNOWN' })
    t.match(await db.messageRecipient.findUniqueOrThrow({ where: { id: 'r-new' } }), { status: 'SENDING', errorCode: null })
    const dead = await db.deadLetterQueue.findMany()
    t.equal(dead.length, 1)
    t.match(dead[0], { kind: 'sms', recipientId: 'r-old', attempts: 1, payload: { messageId: 'old', to: '+13125550101' } })
    t.equal((await db.message.findUniqueOrThrow({ where: { id: 'old' } })).status, 'FAILED', 'its message is closed')
    t.equal((await db.message.findUniqueOrThrow({ where: { id: 'new' } })).status, 'SENDING')
  })
})
