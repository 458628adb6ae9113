// The copy fallback: between servers that cannot replicate (wal_level=replica, the default) a move
// copies the rows while the tenant's writes are frozen. Under a steady write load and arriving
// webhooks, writes are refused only with 503 TENANT_MOVING and retried, reads go on, nothing is lost
// or doubled, held webhooks are applied after the switch and the old database refuses writes.
import t from 'tap'
import { withClient, withDatabase } from '../../src/db/pg-admin.js'
import { TEST_SECRETS } from '../helper.js'
import { startExtraServers } from '../helpers/extra-servers.js'
import { assignNumber, inboundEvent, postWebhook, signup, telnyxAppOn, uniqueNumber } from '../helpers/move-fixture.js'

const operator = { authorization: `Bearer ${TEST_SECRETS.PLATFORM_ADMIN_TOKEN}` }
const [a, b] = await startExtraServers(t, 2)
if (a === undefined || b === undefined) throw new Error('servers did not start')
const sleep = async (ms: number): Promise<void> => { await new Promise((resolve) => setTimeout(resolve, ms)) }

t.test('servers without logical replication: the move copies under the freeze, nothing lost', async (t) => {
  const walLevels = await Promise.all([a, b].map(async (s) => await withClient(s.url, async (c) => (await c.query('SHOW wal_level')).rows[0]?.wal_level as string)))
  t.same(walLevels, ['replica', 'replica'], 'neither server can publish logically')
  const { app, signer } = await telnyxAppOn(t, a.url, { MOVE_GRACE_MS: '3600000' })
  t.equal((await app.inject({ method: 'POST', url: '/api/platform/servers', headers: operator, payload: { name: 'b', url: b.url } })).statusCode, 201)
  const org = await signup(app)
  const number = uniqueNumber()
  await assignNumber(app, org, number)
  const before = await app.registry.tenant.findUniqueOrThrow({ where: { id: org.tenantId } })
  // Some rows to copy.
  for (let i = 0; i < 30; i++) {
    t.equal((await app.inject({ method: 'POST', url: '/api/members', headers: org.auth, payload: { firstName: 'Seed', lastName: String(i), phone: `+1415556${String(1000 + i)}` } })).statusCode, 201)
  }

  const stop = { now: false }
  const acknowledged: string[] = []
  let refused = 0
  let otherErrors = 0
  let reads = 0
  let readFailures = 0
  const webhookIds: string[] = []
  const webhookStatuses: number[] = []
  let n = 0
  const writer = (async () => {
    while (!stop.now) {
      const phone = `+1415557${String(1000 + (n++ % 9000)).padStart(4, '0')}`
      for (;;) {
        const res = await app.inject({ method: 'POST', url: '/api/members', headers: org.auth, payload: { firstName: 'W', lastName: String(n), phone } })
        if (res.statusCode === 201) { acknowledged.push(res.json().id); break }
        if (res.statusCode === 503 && res.json().code === 'TENANT_MOVING' && res.headers['retry-after'] === '1') { refused++; await sleep(20); continue }
        otherErrors++
        break
      }
      await sleep(10)
    }
  })()
  const reader = (async () => {
    while (!stop.now) {
      const res = await app.inject({ method: 'GET', url: '/api/members?limit=5', headers: org.auth })
      if (res.statusCode === 200) reads++
      else readFailures++
      await sleep(15)
    }
  })()
  const hooks = (async () => {
    while (!stop.now) {
      const event = inboundEvent({ to: number, from: `+1312556${String(1000 + webhookIds.length).padStart(4, '0')}`, text: `hi ${webhookIds.length}` })
      webhookIds.push((event.data as { payload: { id: string } }).payload.id)
      webhookStatuses.push((await postWebhook(app, signer, event)).statusCode)
      await sleep(25)
    }
  })()
  await sleep(300)
  const moved = await app.inject({ method: 'POST', url: `/api/platform/tenants/${org.tenantId}/move`, headers: operator, payload: { to: 'b' } })
  await sleep(300)
  stop.now = true
  await Promise.all([writer, reader, hooks])

  t.equal(moved.statusCode, 200, moved.body)
  t.match(moved.json(), { from: 'default', to: 'b', method: 'COPY' }, 'copied, as the servers cannot replicate')
  t.ok(moved.json().rows >= 30, `rows copied and verified (${moved.json().rows as number})`)
  t.ok(moved.json().freezeMs > 0, `writes were frozen for the copy (${moved.json().freezeMs as number} ms)`)
  t.equal(otherErrors, 0, 'no write failed other than with TENANT_MOVING')
  t.equal(readFailures, 0, `every read succeeded (${reads})`)
  t.ok(webhookStatuses.every((s) => s === 200), `every webhook was accepted (${webhookStatuses.length})`)

  const after = await app.registry.tenant.findUniqueOrThrow({ where: { id: org.tenantId }, include: { server: true } })
  t.equal(after.server.name, 'b')
  const onB = withDatabase(b.url, after.databaseName)
  const ids = new Set((await withClient(onB, async (c) => (await c.query('SELECT id FROM "Member" WHERE NOT "isContact"')).rows)).map((r) => r.id as string))
  t.ok(acknowledged.length > 10, `writes went on (${acknowledged.length}, ${refused} refused and retried)`)
  t.equal(acknowledged.filter((id) => !ids.has(id)).length, 0, 'no acknowledged write is lost')
  t.equal(ids.size, 30 + acknowledged.length, 'nothing extra, nothing doubled (webhook senders aside)')
  const stored = (await withClient(onB, async (c) => (await c.query('SELECT "providerMessageId" AS id FROM "ConversationMessage"')).rows)).map((r) => r.id as string)
  t.equal(webhookIds.filter((id) => !stored.includes(id)).length, 0, 'every webhook is applied on the new server')
  t.equal(new Set(stored).size, stored.length, 'none twice')
  t.equal(await app.registry.heldWebhook.count(), 0, 'nothing is left held')

  const old = await withClient(withDatabase(a.url, before.databaseName), async (c) =>
    (await c.query("SELECT has_table_privilege($1, '\"Member\"', 'INSERT') AS insert", [before.databaseUser])).rows[0])
  t.same(old, { insert: false }, 'the old database is kept read-only')
  const moves = await app.registry.tenantMove.findMany({ where: { tenantId: org.tenantId } })
  t.match(moves, [{ method: 'COPY', state: 'SWITCHED' }])
})
