// Tenant clients built ahead (src/tenancy/client-stock.ts) against a real PostgreSQL: a miss takes one
// and binds it to its own tenant's database, no stocked client ever serves a second tenant, an unbound
// one reaches no database, the stock refills after a take and closing it disposes what is left.
import t from 'tap'
import { createClientStock } from '../../src/tenancy/client-stock.js'
import { bindTenantPgPool, newTenantPgPool } from '../../src/tenancy/tenant-client.js'
import { createTenantPool, type TenantConnectionInfo } from '../../src/tenancy/tenant-pool.js'
import { createTestDatabase } from '../helper.js'
import { until } from '../helpers/wait.js'

const urls: string[] = []
t.before(async () => {
  for (let i = 0; i < 4; i++) urls.push(await createTestDatabase('stocktest'))
})
const resolve = async (tenantId: string): Promise<TenantConnectionInfo> => ({ tenantId, serverId: 'test', url: urls[Number(tenantId.slice(1))] as string })
const databaseOf = (url: string): string => new URL(url).pathname.slice(1)

t.test('misses take stocked clients, each bound to its own tenant, and the stock refills', async (t) => {
  const stock = createClientStock({ size: 2 })
  stock.refill()
  await until(() => stock.size() === 2, { what: 'the stock is built' })
  let built = 0
  const pool = createTenantPool({ maxClients: 2, connectionBudget: () => 10, resolve, stock, createClient: () => { built++; throw new Error('a stocked client was expected') } })
  t.teardown(async () => { await pool.close(); await stock.close() })

  const seen = new Map<unknown, string>()
  // Four tenants through a pool of two clients: every miss evicts and takes a new stocked client.
  for (const round of [0, 1]) {
    for (let i = 0; i < 4; i++) {
      await pool.withTenant(`t${i}`, async (db, lease) => {
        const [row] = await db.$queryRaw<Array<{ db: string }>>`SELECT current_database()::text AS db`
        t.equal(row?.db, databaseOf(urls[i] as string), `round ${round}: tenant ${i} reaches its own database`)
        const before = seen.get(db)
        t.ok(before === undefined || before === `t${i}`, 'a client never serves another tenant')
        seen.set(db, `t${i}`)
        const plain = await lease.sql.query<{ db: string }>('SELECT current_database()::text AS db')
        t.equal(plain.rows[0]?.db, row?.db, 'plain SQL goes to the same database')
      })
      // Refilled in the background; the next miss finds a stocked client again.
      await until(() => stock.size() === 2, { what: 'the stock refills after a take' })
    }
  }
  t.equal(built, 0, 'no miss built a client of its own while the stock had one')
  t.equal(seen.size, 8, 'each of the 8 misses had a client of its own')
})

t.test('an empty stock leaves the miss to build its client', async (t) => {
  const stock = createClientStock({ size: 0 })
  let built = 0
  const { createTenantPrismaClient } = await import('../../src/tenancy/tenant-client.js')
  const pool = createTenantPool({ maxClients: 2, connectionBudget: () => 10, resolve, stock, createClient: (info, pg) => { built++; return createTenantPrismaClient(info, pg) } })
  t.teardown(async () => { await pool.close(); await stock.close() })
  const db = await pool.withTenant('t1', async (client) => await client.$queryRaw<Array<{ db: string }>>`SELECT current_database()::text AS db`)
  t.equal(db[0]?.db, databaseOf(urls[1] as string))
  t.equal(built, 1)
})

t.test('an unbound pool reaches no database, and a pool is bound once', async (t) => {
  const pool = newTenantPgPool()
  t.teardown(async () => { await pool.end() })
  await t.rejects(pool.query('SELECT 1'), /ENOENT|connect/, 'a query before binding fails instead of reaching a default server')
  const bound = newTenantPgPool()
  t.teardown(async () => { await bound.end() })
  bindTenantPgPool(bound, await resolve('t2'), 500, () => {})
  t.equal((await bound.query<{ db: string }>('SELECT current_database()::text AS db')).rows[0]?.db, databaseOf(urls[2] as string))
  const other = await resolve('t3')
  t.throws(() => bindTenantPgPool(bound, other, 500, () => {}), /bound once/, 'rebinding a used pool is refused')
})

t.test('closing the stock disposes the clients it holds and stops refilling', async (t) => {
  const stock = createClientStock({ size: 3 })
  stock.refill()
  await until(() => stock.size() === 3, { what: 'the stock is built' })
  await stock.close()
  t.equal(stock.size(), 0)
  t.equal(stock.take(), undefined, 'nothing is handed out after close')
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(stock.size(), 0, 'no refill after close')
})
