import t from 'tap'
import { build, registerOrganization } from '../../helper.js'
import { createMessagingWorker } from '../../../src/messaging/sending/worker.js'
import { createTelnyxSender } from '../../../src/messaging/telnyx/sender.js'

const silent = { info: () => {}, warn: () => {}, error: () => {} }

t.test('recurring messages: CRUD, validation, and each occurrence fires exactly once with two workers', async (t) => {
  const app = await build(t, { QUIET_HOURS_START: '0', QUIET_HOURS_END: '0' })
  const res = await registerOrganization(app)
  const tenantId = res.json().tenantId as string
  const headers = { authorization: `Bearer ${res.json().accessToken as string}` }
  await app.registry.tenant.update({ where: { id: tenantId }, data: { primaryPhoneNumber: '+13125550000' } })
  app.directory.invalidate(tenantId)
  await app.inject({ method: 'POST', url: '/api/members', headers, payload: { firstName: 'Ann', phone: '+13125550101' } })

  t.equal((await app.inject({ method: 'POST', url: '/api/recurring-messages', headers, payload: { name: 'x', schedule: 'weekly:FUNDAY@09:30', text: 'Hi' } })).json().code, 'INVALID_SCHEDULE')
  t.equal((await app.inject({ method: 'POST', url: '/api/recurring-messages', headers, payload: { name: 'x', schedule: '* * * * *', text: '{{bogus}}' } })).statusCode, 400)
  const made = await app.inject({ method: 'POST', url: '/api/recurring-messages', headers, payload: { name: 'Service', schedule: 'weekly:SUN@09:30', timezone: 'America/Chicago', text: 'Service at 9:30, {{firstName}}' } })
  t.equal(made.statusCode, 201, made.body)
  const id = made.json().id as string
  t.ok(new Date(made.json().nextRunAt as string).getTime() > Date.now())
  const patched = await app.inject({ method: 'PATCH', url: `/api/recurring-messages/${id}`, headers, payload: { schedule: '0 9 * * *' } })
  t.equal(patched.json().schedule, '0 9 * * *')

  // Make the occurrence due, then let two workers race to fire it.
  const due = new Date(Date.now() - 60_000)
  await app.pool.withTenant(tenantId, async (db) => { await db.recurringMessage.update({ where: { id }, data: { nextRunAt: due } }) })
  const sender = createTelnyxSender({ log: silent })
  const workers = [1, 2].map(() => createMessagingWorker({ boss: app.boss, pool: app.pool, directory: app.directory, registry: app.registry, sender, log: silent, ratePerSecondPerNumber: 0 }))
  const fired = await Promise.all([...workers, ...workers].map(async (w) => await w.tickRecurring()))
  t.equal(fired.reduce((a, b) => a + b, 0), 1, 'fired once in total')
  t.equal(await workers[0]?.tickRecurring(), 0, 'a later tick (restart) does not fire it again')
  await app.pool.withTenant(tenantId, async (db) => {
    const messages = await db.message.findMany({ where: { recurringMessageId: id } })
    t.equal(messages.length, 1)
    t.equal(messages[0]?.occurrenceKey, `${id}:${due.toISOString()}`)
    t.equal(messages[0]?.recipientCount, 1)
    const r = await db.recurringMessage.findUniqueOrThrow({ where: { id } })
    t.ok((r.nextRunAt?.getTime() ?? 0) > Date.now(), 'nextRunAt advanced')
  })
  t.equal((await app.inject({ url: '/api/recurring-messages', headers })).json().length, 1)
  t.equal((await app.inject({ method: 'DELETE', url: `/api/recurring-messages/${id}`, headers })).statusCode, 204)
})
