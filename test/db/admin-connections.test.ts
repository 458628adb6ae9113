// The kept-open admin connections: a burst larger than the pool waits its turn in order instead of
// failing after the pool's connect timeout, and a wait past the limit is a 503 to retry, not a 500.
// Also the embedded server's autovacuum pace, which a server holding a database per tenant needs.
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { adminQueueStats, CONNECT_TIMEOUT_MS, withAdminClient } from '../../src/db/pg-admin.js'
import { createFifoGate } from '../../src/util/fifo-gate.js'
import { AUTOVACUUM_NAPTIME_S } from '../../src/db/embedded-postgres.js'
import { testServerUrl } from '../helper.js'

t.test('the gate admits in arrival order, up to its capacity, and a timed-out waiter takes no place', async (t) => {
  const gate = createFifoGate(2)
  t.equal(await gate.enter(10), true)
  t.equal(await gate.enter(10), true)
  const order: string[] = []
  const late = gate.enter(20).then((ok) => { order.push(`late:${ok}`) })
  const first = gate.enter(1000).then((ok) => { order.push(`first:${ok}`) })
  const second = gate.enter(1000).then((ok) => { order.push(`second:${ok}`) })
  await late
  t.same(gate.stats(), { active: 2, waiting: 2 })
  gate.leave()
  gate.leave()
  await Promise.all([first, second])
  t.same(order, ['late:false', 'first:true', 'second:true'])
  gate.leave()
  gate.leave()
  t.same(gate.stats(), { active: 0, waiting: 0 })
})

t.test('callers beyond the admin connections wait longer than the connect timeout and then succeed', async (t) => {
  const url = await testServerUrl()
  let releaseAll!: () => void
  const held = new Promise<void>((resolve) => { releaseAll = resolve })
  const holders = Array.from({ length: 4 }, async () => await withAdminClient(url, async (c) => { await c.query('SELECT 1'); await held }))
  await sleep(50)
  const started = Date.now()
  const waiter = withAdminClient(url, async (c) => (await c.query<{ one: number }>('SELECT 1 AS one')).rows[0]?.one)
  await sleep(50)
  t.same(adminQueueStats(url), { active: 4, waiting: 1 })
  // pg.Pool alone would have failed the fifth caller with "timeout exceeded when trying to connect".
  await sleep(CONNECT_TIMEOUT_MS + 500)
  releaseAll()
  t.equal(await waiter, 1)
  t.ok(Date.now() - started > CONNECT_TIMEOUT_MS)
  await Promise.all(holders)
  t.same(adminQueueStats(url), { active: 0, waiting: 0 })
})

t.test('a caller that waits past its limit gets PROVISIONING_BUSY (503) and leaves no place taken', async (t) => {
  const url = await testServerUrl()
  let releaseAll!: () => void
  const held = new Promise<void>((resolve) => { releaseAll = resolve })
  const holders = Array.from({ length: 4 }, async () => await withAdminClient(url, async () => { await held }))
  await sleep(50)
  await t.rejects(withAdminClient(url, async () => 1, { queueMs: 100 }), { code: 'PROVISIONING_BUSY', statusCode: 503 })
  releaseAll()
  await Promise.all(holders)
  t.same(adminQueueStats(url), { active: 0, waiting: 0 })
  t.equal(await withAdminClient(url, async () => 'free again'), 'free again')
})

t.test('the embedded server visits each database for autovacuum every few minutes, not every minute', async (t) => {
  // With a database per tenant the launcher starts one worker per database per naptime, idle or not.
  const setting = await withAdminClient(await testServerUrl(), async (c) => (await c.query<{ s: string }>("SELECT setting AS s FROM pg_settings WHERE name = 'autovacuum_naptime'")).rows[0]?.s)
  t.equal(Number(setting), AUTOVACUUM_NAPTIME_S)
  t.ok(AUTOVACUUM_NAPTIME_S >= 300)
})
