// Deletion with a grace period: scheduling stops all sending at once (queued broadcasts too) while
// admins still sign in, read and export; cancelling restores sending; the sweep deletes when it ends.
import t from 'tap'
import { SEND_QUEUE, type SendJob } from '../../src/messaging/sending/send-queue.js'
import { build } from '../helper.js'
import { addAdmin, orgWithMembers } from '../helpers/lifecycle-fixture.js'

const PASSWORD = 'correct horse battery staple'

t.test('owner schedules deletion; sending stops, reading and export go on; cancel restores sending', async (t) => {
  const app = await build(t)
  const org = await orgWithMembers(app, 2)
  const headers = org.headers
  t.equal((await app.inject({ method: 'POST', url: '/api/phone-numbers', headers, payload: { phoneNumber: '+13125559001' } })).statusCode, 201)
  // A broadcast queued before the request: its job waits in the queue (no worker runs here).
  const queued = await app.inject({ method: 'POST', url: '/api/messages', headers, payload: { text: 'Sunday at ten' } })
  t.equal(queued.statusCode, 202, queued.body)

  const staff = await addAdmin(app, org, 'ADMIN')
  t.equal((await app.inject({ method: 'POST', url: '/api/account/deletion', headers: staff.headers, payload: { password: 'another long password' } })).statusCode, 403, 'only the owner')
  const wrong = await app.inject({ method: 'POST', url: '/api/account/deletion', headers, payload: { password: 'not my password' } })
  t.equal(wrong.statusCode, 401)
  t.equal(wrong.json().code, 'WRONG_PASSWORD')
  t.equal((await app.inject({ method: 'DELETE', url: '/api/account/deletion', headers })).statusCode, 409, 'nothing to cancel yet')

  const asked = await app.inject({ method: 'POST', url: '/api/account/deletion', headers, payload: { password: PASSWORD, reason: 'merging with another church' } })
  t.equal(asked.statusCode, 202, asked.body)
  t.equal(asked.json().status, 'DELETION_SCHEDULED')
  const days = (Date.parse(asked.json().deletionScheduledFor) - Date.now()) / 86_400_000
  t.ok(days > 29.9 && days <= 30, 'thirty days of grace by default')
  const again = await app.inject({ method: 'POST', url: '/api/account/deletion', headers, payload: { password: PASSWORD } })
  t.equal(again.statusCode, 409)
  t.equal(again.json().code, 'DELETION_ALREADY_SCHEDULED')

  const me = await app.inject({ url: '/api/me', headers })
  t.equal(me.statusCode, 200)
  t.match(me.json().tenant, { status: 'DELETION_SCHEDULED', deletionScheduledFor: asked.json().deletionScheduledFor })
  t.equal((await app.inject({ method: 'POST', url: '/api/auth/login', payload: { email: org.email, password: PASSWORD } })).statusCode, 200, 'admins still sign in')
  t.equal((await app.inject({ url: '/api/members', headers })).json().items.length, 2, 'and read')
  t.equal((await app.inject({ method: 'POST', url: '/api/account/exports', headers })).statusCode, 202, 'and export')
  const send = await app.inject({ method: 'POST', url: '/api/messages', headers, payload: { text: 'one more' } })
  t.equal(send.statusCode, 409)
  t.equal(send.json().code, 'DELETION_SCHEDULED')

  // The queued broadcast's turn comes: nothing is sent, every recipient failed with the reason.
  const jobs = await app.boss.fetch<SendJob>(SEND_QUEUE, { batchSize: 10 })
  t.ok(jobs.length > 0)
  for (const job of jobs) await app.messagingWorker.processSendJob(job.data)
  const recipients = await app.pool.withTenant(org.tenantId, async (db) => await db.messageRecipient.findMany({ where: { messageId: queued.json().id } }))
  t.same(recipients.map((r) => [r.status, r.errorCode]), recipients.map(() => ['FAILED', 'TENANT_DELETION_SCHEDULED']))
  t.equal(recipients.length, 2)

  const cancelled = await app.inject({ method: 'DELETE', url: '/api/account/deletion', headers })
  t.equal(cancelled.statusCode, 200, cancelled.body)
  t.same(cancelled.json(), { status: 'ACTIVE', deletionScheduledFor: null })
  t.equal((await app.inject({ url: '/api/me', headers })).json().tenant.deletionScheduledFor, null)
  t.equal((await app.inject({ method: 'POST', url: '/api/messages', headers, payload: { text: 'back again' } })).statusCode, 202, 'sending is back')
  const requests = await app.pool.withTenant(org.tenantId, async (db) => await db.accountDeletionRequest.findMany())
  t.equal(requests.length, 1)
  t.ok(requests[0]?.cancelledAt !== null, 'the request is recorded as cancelled')
})

t.test('when the grace period ends the sweep deletes the organization', async (t) => {
  const app = await build(t, { DELETION_GRACE_DAYS: '3' })
  const org = await orgWithMembers(app, 1)
  const asked = await app.inject({ method: 'POST', url: '/api/account/deletion', headers: org.headers, payload: { password: PASSWORD } })
  t.equal(asked.statusCode, 202)
  t.same(await app.deletions.runDue(new Date(Date.now() + 2 * 86_400_000)), [], 'not before the date')
  t.same(await app.deletions.runDue(new Date(Date.now() + 3 * 86_400_000 + 60_000)), [org.tenantId])
  t.equal(await app.registry.tenant.count({ where: { id: org.tenantId } }), 0)
  const report = await app.hardDelete.report(org.tenantId)
  t.match(report, { requestedBy: 'owner', reason: 'grace period ended' })
  t.ok(report.completedAt !== null)
  t.equal((await app.inject({ url: '/api/me', headers: org.headers })).statusCode, 401, 'its tokens open nothing')
})
