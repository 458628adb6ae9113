// The tenant client pool: one Prisma client per active tenant, bounded by a client count and by a
// connection budget per PostgreSQL server, segmented-LRU eviction of idle clients (pool-capacity.ts),
// single-flight creation. An idle client keeps one connection, so a server's budget keeps as many
// tenants warm as it has connections; a busy client opens more (up to connectionsPerClient) only
// while the server has room, and closes them again soon after (client-connections.ts).
import pg from 'pg'
import { ERRORS } from '../errors.js'
import { createConnectionGrowth } from './client-connections.js'
import { createCapacity } from './pool-capacity.js'
import { poolStats } from './pool-stats.js'
import { bindTenantPgPool, createTenantPrismaClient, disposeTenantClient, newTenantPgPool, warmUpTenantClient, type TenantConnectionInfo, type TenantPrismaClient } from './tenant-client.js'

export { createTenantPrismaClient, type TenantConnectionInfo, type TenantPrismaClient } from './tenant-client.js'

export type { PoolLogger, TenantLease, TenantPoolOptions, TenantSql } from './tenant-pool-types.js'
import type { Entry, TenantLease, TenantPoolOptions } from './tenant-pool-types.js'

export function createTenantPool<C = TenantPrismaClient> (opts: TenantPoolOptions<C>) {
  const acquireTimeoutMs = opts.acquireTimeoutMs ?? 10_000
  const maxClients = opts.maxClients ?? 50
  const connectionsPerClient = opts.connectionsPerClient ?? 2
  const createClient = opts.createClient ?? (createTenantPrismaClient as unknown as (info: TenantConnectionInfo, pool: pg.Pool) => C)
  const disposeClient = opts.disposeClient ?? disposeTenantClient
  const extraIdleMs = opts.extraIdleMs ?? 500
  // In connections: every client holds one slot, plus one per connection it opened while busy.
  const serverCap = (serverId: string): number => opts.connectionBudget(serverId)
  const capacity = createCapacity<Entry<C>>({ maxClients, serverCap })
  // A freed extra slot may let a waiting build in.
  const connections = createConnectionGrowth<Entry<C>>({ capacity, connectionsPerClient, onFreed: () => { pump() } })

  const entries = new Map<string, Entry<C>>() // building or ready: at most one per tenant
  const draining = new Map<string, Entry<C>>() // no longer handed out; disposed once its leases end
  const queue = new Set<Entry<C>>() // builds waiting for room, oldest first
  const live = new Set<Entry<C>>() // entries whose pg pool exists, for stats
  const counters = { hits: 0, misses: 0, evictions: 0 }
  let closing = false
  let building = 0 // builds between their start and settling, for the stock's refills
  let borrowCount = 0
  let borrowed = 0

  const closingError = (): Error => new ERRORS.ServiceUnavailable('The tenant pool is closing')

  const sweeper = opts.idleMs === undefined ? undefined : setInterval(sweep, Math.max(opts.idleMs / 2, 10))
  // A sweep is housekeeping: it must never keep the process alive on its own.
  sweeper?.unref()

  function lease (entry: Entry<C>): TenantLease<C> {
    entry.leases++
    capacity.markBusy(entry)
    let released = false
    const release = (): void => {
      if (released) return
      released = true
      onRelease(entry)
    }
    return { client: entry.client as C, sql: entry.pool as pg.Pool, tenantId: entry.tenantId, release }
  }

  function onRelease (entry: Entry<C>): void {
    entry.leases--
    if (entry.leases > 0) return
    if (entry.state === 'draining') {
      void dispose(entry)
      return
    }
    entry.idleSince = Date.now()
    capacity.markIdle(entry)
    // A client just became evictable: a waiter may now be served.
    pump()
    refillStock()
  }

  async function acquire (tenantId: string): Promise<TenantLease<C>> {
    if (closing) throw closingError()
    const existing = entries.get(tenantId)
    if (existing?.state === 'ready') {
      counters.hits++
      capacity.touch(existing)
      return lease(existing)
    }
    if (existing !== undefined) {
      // Single flight: later callers ride on the build already under way.
      counters.hits++
      return await join(existing)
    }
    counters.misses++
    const entry: Entry<C> = { tenantId, serverId: '', holdsGlobal: false, holdsServer: false, state: 'building', leases: 0, idleSince: 0, pending: [] }
    entries.set(tenantId, entry)
    const leased = join(entry)
    entry.built = build(entry)
    return await leased
  }

  async function join (entry: Entry<C>): Promise<TenantLease<C>> {
    return await new Promise((resolve, reject) => { entry.pending.push({ resolve, reject }) })
  }

  async function build (entry: Entry<C>): Promise<void> {
    const started = performance.now()
    building++
    try {
      // One client per tenant: a successor waits until the retired client has let go of its connections.
      await draining.get(entry.tenantId)?.disposed
      const info = await opts.resolve(entry.tenantId)
      entry.serverId = info.serverId
      entry.url = info.url
      if (serverCap(info.serverId) < 1) throw new ERRORS.PoolExhausted()
      const victim = await waitForRoom(entry)
      // The slot was handed over by a victim: its connections must be gone before ours open.
      await victim?.disposed
      if (closing) throw closingError()
      // A client built ahead (client-stock.ts) when there is one: the miss then pays for its connection only.
      const stocked = opts.stock?.take()
      const pool = bindTenantPgPool(stocked?.pool ?? newTenantPgPool(), info, extraIdleMs, (err) => { opts.log?.warn({ err, tenantId: entry.tenantId }, 'idle tenant connection failed') })
      entry.pool = pool
      connections.attach(entry, pool)
      live.add(entry)
      entry.client = stocked?.client ?? createClient(info, pool)
      await warmUpTenantClient(entry.client, pool)
      if (closing) throw closingError()
      entry.state = 'ready'
      for (const waiter of entry.pending.splice(0)) waiter.resolve(lease(entry))
      // Every acquirer normally takes a lease here; if none is left the client must still become evictable.
      if (entry.leases === 0) {
        entry.idleSince = Date.now()
        capacity.markIdle(entry)
        pump()
      }
      opts.onMiss?.(entry.serverId, performance.now() - started)
      opts.log?.debug({ tenantId: entry.tenantId, serverId: entry.serverId }, 'tenant client opened')
    } catch (error) {
      entry.state = 'gone'
      if (entries.get(entry.tenantId) === entry) entries.delete(entry.tenantId)
      for (const waiter of entry.pending.splice(0)) waiter.reject(error)
      // A client whose warm-up failed may already hold its query compiler.
      if (entry.client !== undefined) await disposeClient(entry.client).catch(() => {})
      if (entry.pool !== undefined) await endPool(entry)
      capacity.release(entry)
      pump()
    } finally {
      building--
    }
  }

  // Refilling the stock blocks the main thread for a few ms per client: done when a lease ends and no
  // miss is in flight, so neither a miss's handshake nor its first query waits behind it.
  function refillStock (): void {
    if (opts.stock === undefined || opts.stock.full() || building > 0 || closing) return
    setImmediate(() => { opts.stock?.refill(() => building === 0 && !closing) })
  }

  async function waitForRoom (entry: Entry<C>): Promise<Entry<C> | undefined> {
    return await new Promise((resolve, reject) => {
      if (closing) return reject(closingError())
      entry.room = { resolve, reject }
      entry.timer = setTimeout(() => {
        queue.delete(entry)
        reject(new ERRORS.PoolExhausted())
      }, acquireTimeoutMs)
      queue.add(entry)
      pump()
    })
  }

  /** Serves waiting builds in arrival order; one whose own server is full does not block the others. */
  function pump (): void {
    for (const entry of queue) {
      if (capacity.blocked()) return
      const reservation = capacity.reserve(entry)
      if (!reservation.ok) continue
      queue.delete(entry)
      clearTimeout(entry.timer)
      if (reservation.victim !== undefined) {
        counters.evictions++
        void retire(reservation.victim)
      }
      entry.room?.resolve(reservation.victim)
    }
  }

  /** Stops handing the client out; it is disposed as soon as its last lease ends (maybe now). */
  async function retire (entry: Entry<C>): Promise<void> {
    if (entry.disposed !== undefined) return await entry.disposed
    entry.state = 'draining'
    if (entries.get(entry.tenantId) === entry) entries.delete(entry.tenantId)
    draining.set(entry.tenantId, entry)
    capacity.markBusy(entry)
    entry.disposed = new Promise((resolve) => { entry.onDisposed = resolve })
    if (entry.leases === 0) void dispose(entry)
    await entry.disposed
  }

  async function dispose (entry: Entry<C>): Promise<void> {
    try {
      await disposeClient(entry.client as C)
    } catch (err) {
      opts.log?.warn({ err, tenantId: entry.tenantId }, 'tenant client did not disconnect cleanly')
    }
    await endPool(entry)
    if (draining.get(entry.tenantId) === entry) draining.delete(entry.tenantId)
    entry.state = 'gone'
    // Only now are its connections closed, so only now does its slot count as free.
    capacity.release(entry)
    opts.log?.debug({ tenantId: entry.tenantId, serverId: entry.serverId }, 'tenant client closed')
    entry.onDisposed?.()
    pump()
  }

  async function endPool (entry: Entry<C>): Promise<void> {
    const pool = entry.pool
    // A custom disposeClient may already have ended it, and pg throws when a pool is ended twice.
    if (pool !== undefined && !pool.ending) await pool.end().catch((err: unknown) => { opts.log?.warn({ err, tenantId: entry.tenantId }, 'tenant pool did not end cleanly') })
    live.delete(entry)
  }

  function sweep (): void {
    const cutoff = Date.now() - (opts.idleMs ?? 0)
    // Idle entries come by segment, not by idle time, so every one is checked (at most maxClients).
    for (const entry of [...capacity.idleEntries()]) {
      if (entry.idleSince > cutoff) continue
      counters.evictions++
      void retire(entry)
    }
  }

  /**
   * Holds one client's share of `serverId`'s budget for connections opened outside the pool (a fleet
   * migration's admin connection), so that both together stay within the budget. It queues, and
   * evicts an idle client, exactly as a new client would. The returned function gives it back.
   */
  async function borrow (serverId: string): Promise<() => void> {
    if (closing) throw closingError()
    if (serverCap(serverId) < 1) throw new ERRORS.PoolExhausted()
    const entry: Entry<C> = { tenantId: `borrowed:${++borrowCount}`, serverId, holdsGlobal: false, holdsServer: false, state: 'building', leases: 0, idleSince: 0, pending: [] }
    const victim = await waitForRoom(entry)
    await victim?.disposed
    borrowed++
    let released = false
    return () => {
      if (released) return
      released = true
      borrowed--
      capacity.release(entry)
      pump()
    }
  }

  async function withTenant<T> (tenantId: string, fn: (client: C, lease: TenantLease<C>) => Promise<T>): Promise<T> {
    const held = await acquire(tenantId)
    try {
      return await fn(held.client, held)
    } finally {
      held.release()
    }
  }

  /** For a deleted or moved tenant. Waits for in-flight leases; a caller holding one must release it first. */
  async function evict (tenantId: string): Promise<void> {
    const entry = entries.get(tenantId) ?? draining.get(tenantId)
    if (entry === undefined) return
    await entry.built
    if (entry.state === 'ready') counters.evictions++
    if (entry.state === 'ready' || entry.state === 'draining') await retire(entry)
  }

  /** Evicts the tenant's client only if it connects somewhere other than `url` (its database was switched). */
  async function evictIfMoved (tenantId: string, url: string): Promise<void> {
    const entry = entries.get(tenantId)
    if (entry === undefined) return
    await entry.built
    if (entry.url !== url) await evict(tenantId)
  }

  async function close (): Promise<void> {
    closing = true
    if (sweeper !== undefined) clearInterval(sweeper)
    for (const entry of queue) {
      queue.delete(entry)
      clearTimeout(entry.timer)
      entry.room?.reject(closingError())
    }
    await Promise.all([...entries.values()].map(async (entry) => { await entry.built }))
    await Promise.all([...entries.values(), ...draining.values()].map(retire))
  }

  function stats () {
    return { ...poolStats(live, queue, opts.connectionBudget), ...counters, protectedClients: capacity.segments().protected, borrowed }
  }

  /** Slots one server offers: its budget in connections (a borrower takes one, like an idle client). */
  const slots = (serverId: string): number => serverCap(serverId)

  return { acquire, withTenant, borrow, slots, evict, evictIfMoved, stats, close }
}

export type TenantPool<C = TenantPrismaClient> = ReturnType<typeof createTenantPool<C>>
