// ClosablePool's hand-over of new connections (src/db/closable-pool.ts): a request that made the pool
// open a connection is served by whichever connection is free first. The new connections' logins are
// held at a gate the test opens, so which backend serves a request never depends on timing.
import t from 'tap'
import pg from 'pg'
import { ClosablePool } from '../../src/db/closable-pool.js'
import { testServerUrl } from '../helper.js'

const url = await testServerUrl()

/** A pool whose n-th connection (n >= 2) logs in only when the test settles `gates[n - 2]`. */
function gatedPool (max: number) {
  const gates: Array<{ promise: Promise<void>, open: () => void, fail: (e: Error) => void }> = []
  for (let i = 0; i < 4; i++) {
    let open = (): void => {}
    let fail = (_e: Error): void => {}
    const promise = new Promise<void>((resolve, reject) => { open = resolve; fail = reject })
    promise.catch(() => {})
    gates.push({ promise, open, fail })
  }
  let made = 0
  class GatedClient extends pg.Client {
    override connect (callback?: any): any {
      const gate = made++ === 0 ? undefined : gates[made - 2]
      if (gate === undefined || callback === undefined) return super.connect(callback as any)
      gate.promise.then(() => { super.connect(callback) }, (err: Error) => { callback(err) })
    }
  }
  const pool = new ClosablePool({ connectionString: url, max, Client: GatedClient as unknown as typeof pg.Client })
  return { pool, gates }
}

const pid = async (c: pg.PoolClient): Promise<number> => (await c.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid ?? 0

t.test('a request that opened a connection is served by the busy one when it frees up first', async (t) => {
  const { pool, gates } = gatedPool(2)
  t.teardown(async () => { await pool.end() })
  const first = await pool.connect()
  const firstPid = await pid(first)
  const second = pool.connect() // opens connection 2, which waits at its gate
  t.equal(pool.totalCount, 2, 'a second connection is being opened')
  t.equal(pool.opening, 1)
  first.release()
  const served = await second
  t.equal(await pid(served), firstPid, 'served by the connection given back, not the one still logging in')
  served.release()
  gates[0]?.open()
  await t.resolveMatch((async () => { while (pool.idleCount < 2) await new Promise((resolve) => setTimeout(resolve, 5)) })(), undefined)
  t.equal(pool.totalCount, 2, 'the new connection joined the pool, idle')
  t.equal(pool.opening, 0)
  const both = [await pool.connect(), await pool.connect()]
  t.not(await pid(both[0] as pg.PoolClient), await pid(both[1] as pg.PoolClient), 'two backends')
  for (const c of both) c.release()
})

t.test('when no connection frees up and the new ones cannot log in, the request gets the error', async (t) => {
  const { pool, gates } = gatedPool(2)
  t.teardown(async () => { await pool.end() })
  const first = await pool.connect()
  const second = pool.connect()
  gates[0]?.fail(new Error('login refused (gate)'))
  // pg opens another connection for the waiting request; it fails too.
  gates[1]?.fail(new Error('login refused again (gate)'))
  await t.rejects(second, /login refused again/)
  t.equal(pool.totalCount, 1, 'only the working connection is left')
  t.equal(pool.opening, 0)
  first.release()
})

t.test('pool.query goes through the same hand-over', async (t) => {
  const { pool, gates } = gatedPool(2)
  t.teardown(async () => { await pool.end() })
  const first = await pool.connect()
  const firstPid = await pid(first)
  const queried = pool.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
  first.release()
  t.equal((await queried).rows[0]?.pid, firstPid)
  gates[0]?.open()
})
