// A move that fails or whose process dies at any step: an error before the switch is undone at once;
// a crash is undone (before the switch) or finished (after it) by the reconciler. Either way the
// tenant works afterwards, on exactly one server, with all its data, and nothing is left behind.
import t, { type Test } from 'tap'
import { withClient, withDatabase } from '../../src/db/pg-admin.js'
import { SimulatedMoveCrash, type MoveStep } from '../../src/tenancy/moves/move-service.js'
import { startExtraServers, type ExtraServer } from '../helpers/extra-servers.js'
import { signup, telnyxAppOn, type Org } from '../helpers/move-fixture.js'

const [a, b] = await startExtraServers(t, 2, { logicalReplication: true }) as [ExtraServer, ExtraServer]

const BEFORE_SWITCH: MoveStep[] = ['REQUESTED', 'TARGET_CREATED', 'SYNCED', 'FROZEN', 'VERIFIED']
const AFTER_SWITCH: MoveStep[] = ['SWITCHED', 'CLEANED']

let fault: { step: MoveStep, kind: 'crash' | 'error' } | undefined
const { app } = await telnyxAppOn(t, a.url, { MOVE_GRACE_MS: '0' }, {
  afterMoveStep: (step) => {
    if (fault?.step !== step) return
    const kind = fault.kind
    fault = undefined
    throw kind === 'crash' ? new SimulatedMoveCrash(step) : new Error(`injected failure after ${step}`)
  }
})
await app.serverAdmin.add({ name: 'b', url: b.url, kind: 'SHARED', connectionBudget: 40, maxTenants: 100, actor: 'test' })
const org: Org = await signup(app)
let members = 0

const where = async (): Promise<string> => (await app.serverAdmin.byName('b')).id === (await app.registry.tenant.findUniqueOrThrow({ where: { id: org.tenantId } })).serverId ? 'b' : 'default'
const urlOf = (name: string): string => name === 'b' ? b.url : a.url
const other = (name: string): string => name === 'b' ? 'default' : 'b'

async function databasesOn (url: string): Promise<string[]> {
  return await withClient(url, async (c) => (await c.query("SELECT datname FROM pg_database WHERE datname ~ '^tenant_[a-z0-9]{20,32}$'")).rows.map((r) => r.datname as string))
}

async function assertHealthy (t: Test, expected: string): Promise<void> {
  const tenant = await app.registry.tenant.findUniqueOrThrow({ where: { id: org.tenantId } })
  t.equal(await where(), expected, `the tenant is on ${expected}`)
  t.equal(tenant.writesFrozenAt, null, 'not frozen')
  t.same(await databasesOn(urlOf(expected)), [tenant.databaseName], 'its database is where the directory says')
  t.same(await databasesOn(urlOf(other(expected))), [], 'and nowhere else')
  for (const url of [a.url, b.url]) {
    const leftovers = await withClient(url, async (c) => (await c.query('SELECT slot_name FROM pg_replication_slots UNION ALL SELECT subname FROM pg_subscription')).rows)
    t.same(leftovers, [], 'no slot or subscription left')
  }
  const res = await app.inject({ method: 'POST', url: '/api/members', headers: org.auth, payload: { firstName: 'F', lastName: String(members), phone: `+1415666${String(1000 + members).padStart(4, '0')}` } })
  t.equal(res.statusCode, 201, 'writes work')
  members++
  const count = await withClient(withDatabase(urlOf(expected), tenant.databaseName), async (c) => (await c.query('SELECT count(*)::int AS n FROM "Member"')).rows[0]?.n as number)
  t.equal(count, members, 'every member is there')
  t.equal(await app.registry.tenantMove.count({ where: { liveTenantId: { not: null } } }), 0, 'no move is live')
}

async function moveWith (step: MoveStep, kind: 'crash' | 'error'): Promise<unknown> {
  fault = { step, kind }
  return await app.moves.move(org.tenantId, other(await where()), { actor: 'test' }).then(() => 'moved', (error: Error) => error)
}

const future = (): Date => new Date(Date.now() + 10 * 60_000)

t.test('the starting point', async (t) => { await assertHealthy(t, 'default') })
for (const step of BEFORE_SWITCH) {
  t.test(`an error after ${step} is undone at once`, async (t) => {
    const home = await where()
    t.match(await moveWith(step, 'error'), { code: 'MOVE_FAILED', statusCode: 502 })
    await assertHealthy(t, home)
  })
  t.test(`a crash after ${step} is undone by the reconciler`, async (t) => {
    const home = await where()
    t.type(await moveWith(step, 'crash'), SimulatedMoveCrash)
    if (step === 'FROZEN' || step === 'VERIFIED') {
      const res = await app.inject({ method: 'POST', url: '/api/members', headers: org.auth, payload: { firstName: 'X', lastName: 'Y', phone: '+14157770000' } })
      t.equal(res.statusCode, 503, 'writes stay refused until the reconciler runs')
    }
    t.same((await app.moves.recovery.reconcile(future())).undone, [org.tenantId])
    await assertHealthy(t, home)
  })
}
for (const step of AFTER_SWITCH) {
  t.test(`a crash after ${step} is finished by the reconciler`, async (t) => {
    const home = await where()
    t.type(await moveWith(step, 'crash'), SimulatedMoveCrash)
    await app.moves.recovery.reconcile(future())
    await app.moves.recovery.reconcile(future())
    await assertHealthy(t, other(home))
  })
}
