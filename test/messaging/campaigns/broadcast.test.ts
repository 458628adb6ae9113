import t from 'tap'
import { build, registerOrganization } from '../../helper.js'
import { startFakeTelnyx } from '../../helpers/fake-telnyx.js'
import { createTelnyxSigner } from '../../helpers/telnyx-signer.js'
import { until } from '../../helpers/wait.js'

const FROM = '+13125550000'

async function setup (t: Parameters<typeof build>[0], env: Record<string, string> = {}) {
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
  const setNumber = async (n: string | null) => { await app.registry.tenant.update({ where: { id: tenantId }, data: { primaryPhoneNumber: n } }); app.directory.invalidate(tenantId) }
  const member = async (firstName: string, phone: string, branchIds: string[] = []) =>
    (await app.inject({ method: 'POST', url: '/api/members', headers, payload: { firstName, phone, branchIds } })).json().id as string
  const branch = async (name: string) => (await app.inject({ method: 'POST', url: '/api/branches', headers, payload: { name } })).json().id as string
  return { app, fake, tenantId, headers, setNumber, member, branch }
}

t.test('a broadcast needs a number and an active subscription', async (t) => {
  const { app, headers, tenantId, setNumber } = await setup(t)
  const none = await app.inject({ method: 'POST', url: '/api/messages', headers, payload: { text: 'Hi' } })
  t.equal(none.statusCode, 409)
  t.equal(none.json().code, 'NO_SENDING_NUMBER')
  await setNumber(FROM)
  await app.registry.tenant.update({ where: { id: tenantId }, data: { subscriptionStatus: 'CANCELED' } })
  app.directory.invalidate(tenantId)
  const lapsed = await app.inject({ method: 'POST', url: '/api/messages', headers, payload: { text: 'Hi' } })
  t.equal(lapsed.statusCode, 402)
  t.equal(lapsed.json().code, 'SUBSCRIPTION_INACTIVE')
})

t.test('a branch broadcast reaches exactly its opted-in members, deduped, with merged text', async (t) => {
  const { app, fake, headers, tenantId, setNumber, member, branch } = await setup(t, { WORKER_ENABLED: 'true' })
  await setNumber(FROM)
  const youth = await branch('Youth')
  const choir = await branch('Choir')
  await member('Ann', '+13125550101', [youth, choir])
  await member('Bob', '+13125550102', [youth])
  const out = await member('Cy', '+13125550103', [youth])
  await member('Dee', '+13125550104', [])
  await app.pool.withTenant(tenantId, async (db) => { await db.member.update({ where: { id: out }, data: { optedOut: true } }) })
  const res = await app.inject({ method: 'POST', url: '/api/messages', headers, payload: { text: 'Hi {{firstName}} from {{churchName}}', branchIds: [youth, choir] } })
  t.equal(res.statusCode, 202, res.body)
  t.match(res.json(), { status: 'QUEUED', recipientCount: 2, excludedCount: 1 })
  const id = res.json().id as string
  await until(async () => (await app.inject({ url: `/api/messages/${id}`, headers })).json().status === 'SENT')
  t.same(fake.sent.map((s) => s.body.text).sort(), ['Hi Ann from First Church', 'Hi Bob from First Church'])
  t.ok(fake.sent.every((s) => s.body.from === FROM && String(s.body.webhook_url).endsWith('/webhooks/telnyx')))
  t.match((await app.inject({ url: `/api/messages/${id}`, headers })).json(), { counts: { SENT: 2 }, recipientCount: 2 })
  t.equal((await app.inject({ url: '/api/messages', headers })).json().items.length, 1)
})

t.test('a scheduled message can be cancelled; a sent one cannot', async (t) => {
  const { app, fake, headers, setNumber, member } = await setup(t, { WORKER_ENABLED: 'true' })
  await setNumber(FROM)
  await member('Ann', '+13125550101')
  const sendAt = new Date(Date.now() + 3000).toISOString()
  const res = await app.inject({ method: 'POST', url: '/api/messages', headers, payload: { text: 'Later', sendAt } })
  t.match(res.json(), { status: 'SCHEDULED', recipientCount: 1 })
  const id = res.json().id as string
  const cancelled = await app.inject({ method: 'POST', url: `/api/messages/${id}/cancel`, headers })
  t.equal(cancelled.statusCode, 200, cancelled.body)
  t.equal((await app.inject({ method: 'POST', url: `/api/messages/${id}/cancel`, headers })).statusCode, 409)
  await new Promise((resolve) => setTimeout(resolve, 4500))
  t.equal(fake.sent.length, 0, 'nothing sent')
  t.match((await app.inject({ url: `/api/messages/${id}`, headers })).json(), { status: 'CANCELLED', counts: { SKIPPED: 1 } })
})

t.test('a member who opts out after enqueue is skipped at send time', async (t) => {
  const { app, fake, headers, tenantId, setNumber, member } = await setup(t)
  await setNumber(FROM)
  const ann = await member('Ann', '+13125550101')
  await member('Bob', '+13125550102')
  const id = (await app.inject({ method: 'POST', url: '/api/messages', headers, payload: { text: 'Hi' } })).json().id as string
  await app.pool.withTenant(tenantId, async (db) => { await db.member.update({ where: { id: ann }, data: { optedOut: true } }) })
  await app.messagingWorker.start()
  await until(async () => (await app.inject({ url: `/api/messages/${id}`, headers })).json().status === 'SENT')
  t.same(fake.sent.map((s) => s.body.to), ['+13125550102'])
  t.match((await app.inject({ url: `/api/messages/${id}`, headers })).json().counts, { SENT: 1, SKIPPED: 1 })
})
