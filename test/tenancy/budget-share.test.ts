// With TENANT_POOL_PROCESSES=N each process keeps 1/N of a server's connection budget, also after the
// periodic refresh of server rows (which once wrote the whole budget back into this process's map).
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { build } from '../helper.js'

t.test('a process keeps its share of the budget across budget refreshes', async (t) => {
  const app = await build(t, { TENANT_POOL_PROCESSES: '3', TENANT_CONNECTION_BUDGET: '30', RECONCILE_INTERVAL_MS: '1000' })
  const [server] = await app.servers.list()
  if (server === undefined) throw new Error('no database server row')
  const share = Math.floor(server.connectionBudget / 3)
  t.equal(app.pool.slots(server.id), share, `a third of the server's ${server.connectionBudget} at start`)
  // Two refreshes at least.
  await sleep(2500)
  t.equal(app.pool.slots(server.id), share, 'still a third after the refreshes')
})
