// Tenant Prisma clients built ahead of the misses that need them. Building a client's query compiler
// (the WASM compiler parsing the tenant schema, on $connect) costs about as much main-thread time as
// a new PostgreSQL backend costs the server, and a miss paid both, one after the other. A stocked
// client has its compiler built while nothing waits for it, over a pg pool that is bound to no
// database yet: a miss binds it to its tenant (tenant-client.ts) and pays only for the connection.
// Building one blocks the main thread for a few milliseconds, so the tenant pool refills the stock
// only while no miss is in flight (a miss's connection handshake needs the main thread too).
// A stocked client serves exactly one tenant for its whole life; it is never handed back or reused.
import type pg from 'pg'
import { createTenantPrismaClient, newTenantPgPool, type TenantPrismaClient } from './tenant-client.js'
import type { PoolLogger } from './tenant-pool-types.js'

export interface StockedClient { pool: pg.Pool, client: TenantPrismaClient }

export function createClientStock (opts: { size: number, log?: Pick<PoolLogger, 'warn'> }) {
  const ready: StockedClient[] = []
  let filling: Promise<void> | undefined
  let closed = false

  async function build (): Promise<StockedClient> {
    const pool = newTenantPgPool()
    // No tenant yet: createTenantPrismaClient does not read its info, only the pool.
    const client = createTenantPrismaClient({ tenantId: '', serverId: '', url: '' }, pool)
    // Builds the compiler; the adapter opens no connection until the first query.
    await client.$connect()
    return { pool, client }
  }

  async function fill (isIdle: () => boolean): Promise<void> {
    // `closed` is set by close() while a build awaits.
    // eslint-disable-next-line no-unmodified-loop-condition
    while (!closed && ready.length < opts.size && isIdle()) {
      const built = await build()
      if (closed) {
        await dispose(built)
        return
      }
      ready.push(built)
      // One at a time, each after pending I/O: a miss waiting on its new backend gets its turn first.
      await new Promise((resolve) => setImmediate(resolve))
    }
  }

  /** Builds clients until the stock is full, checking `isIdle` before each one. */
  function refill (isIdle: () => boolean = () => true): void {
    if (closed || filling !== undefined || ready.length >= opts.size) return
    filling = fill(isIdle)
      .catch((err: unknown) => { opts.log?.warn({ err }, 'could not build a tenant client ahead') })
      .finally(() => { filling = undefined })
  }

  /** A client built ahead, or undefined when the stock is empty (the miss builds its own). */
  function take (): StockedClient | undefined {
    return ready.shift()
  }

  async function dispose (s: StockedClient): Promise<void> {
    await s.client.$disconnect().catch(() => {})
    await s.pool.end().catch(() => {})
  }

  async function close (): Promise<void> {
    closed = true
    await filling
    await Promise.all(ready.splice(0).map(dispose))
  }

  return { take, refill, close, size: () => ready.length, full: () => closed || ready.length >= opts.size }
}

export type ClientStock = ReturnType<typeof createClientStock>
