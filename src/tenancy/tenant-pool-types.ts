// The tenant pool's contract: what it is configured with and what a lease hands out. Kept apart from
// the pool's bookkeeping (tenant-pool.ts) so that callers read the interface without the machinery.
import type pg from 'pg'
import type { TenantConnectionInfo } from './tenant-client.js'
import type { Slotted } from './pool-capacity.js'

type LogFn = (obj: unknown, msg?: string) => void
export interface PoolLogger { debug: LogFn, info: LogFn, warn: LogFn, error: LogFn }

export interface TenantPoolOptions<C> {
  /** TENANT_POOL_MAX_CLIENTS (default 50) */
  maxClients?: number
  /** Most connections we may hold to one server, summed over all clients on it. */
  connectionBudget: (serverId: string) => number
  /** Most connections one client opens while busy (default 2); idle, it keeps one. */
  connectionsPerClient?: number
  /** How long a connection beyond a client's first may stay idle before it is closed (default 500 ms). */
  extraIdleMs?: number
  /** A client idle this long is closed by a background sweep; unset: idle clients stay until evicted. */
  idleMs?: number
  /** How long an acquirer may wait for room before TENANT_POOL_EXHAUSTED (default 10 s). */
  acquireTimeoutMs?: number
  /** Looks the tenant up; its errors (e.g. TENANT_NOT_FOUND) reach every waiter and nothing is cached. */
  resolve: (tenantId: string) => Promise<TenantConnectionInfo>
  createClient?: (info: TenantConnectionInfo, pool: pg.Pool) => C
  /** Clients built ahead over unbound pools (client-stock.ts); taken before createClient is called. */
  stock?: { take: () => { pool: pg.Pool, client: C } | undefined, refill: (isIdle: () => boolean) => void, full: () => boolean }
  disposeClient?: (client: C) => Promise<void>
  log?: PoolLogger
  /** Told how long each miss took to open its client (metrics). */
  onMiss?: (serverId: string, ms: number) => void
}

/** The part of pg.Pool a lease hands out: plain queries, no ending or reconfiguring the pool. */
export type TenantSql = Pick<pg.Pool, 'query'>

export interface TenantLease<C> {
  client: C
  /**
   * The same connections as `client`, for plain SQL where Prisma's own per-query work (compiling and
   * interpreting a plan, a few hundred microseconds) is a visible part of a hot path.
   */
  sql: TenantSql
  tenantId: string
  /** Idempotent: a second call is ignored. */
  release: () => void
}

export interface Deferred<T> { resolve: (value: T) => void, reject: (error: unknown) => void }

/** The pool's record of one tenant's client (tenant-pool.ts keeps them; pool-capacity.ts ranks them). */
export interface Entry<C> extends Slotted {
  state: 'building' | 'ready' | 'draining' | 'gone'
  client?: C
  pool?: pg.Pool
  /** Where the client connects: a tenant switched to another database needs a new one. */
  url?: string
  leases: number
  idleSince: number
  pending: Array<Deferred<TenantLease<C>>> // acquirers waiting for the build
  room?: Deferred<Entry<C> | undefined> // settled when the queued build gets a slot
  timer?: NodeJS.Timeout
  built?: Promise<void>
  disposed?: Promise<void>
  onDisposed?: () => void
}
