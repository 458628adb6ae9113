// The per-tenant database client: a Prisma client over a pg pool owned by the tenant pool, how it is
// warmed up on a miss and how it is let go.
import { PrismaPg } from '@prisma/adapter-pg'
import pg from 'pg'
import { ClosablePool } from '../db/closable-pool.js'
import { CONNECT_TIMEOUT_MS, UTC_SESSION_OPTIONS } from '../db/pg-admin.js'
import { PrismaClient } from '../generated/tenant/client.js'

export type TenantPrismaClient = PrismaClient

export interface TenantConnectionInfo { tenantId: string, serverId: string, url: string }

// Where a pool points until it is bound: a socket directory that does not exist, so a query sent
// through an unbound pool by mistake fails at once instead of reaching a default server.
const UNBOUND_URL = 'postgresql://unbound@/unbound?host=/nonexistent/church-sms-unbound'

/**
 * The connections of one tenant client, as the tenant's own role, sessions in UTC, not yet bound to a
 * database (bindTenantPgPool). pg reads a pool's options when it opens a connection, and this one has
 * opened none. It starts with room for one; the tenant pool raises `max` while the client is busy and
 * the budget allows.
 */
export function newTenantPgPool (): pg.Pool {
  // min 1: pg's idle timeout closes only connections beyond the first, so a cached client stays warm
  // on one connection (the tenant pool's idle sweep decides when the client itself goes) and gives
  // back the ones it opened while busy soon after it is idle.
  // A ClosablePool: a transaction whose COMMIT met a dead server must not keep the tenant's connection
  // (the client would wait for it for ever, and so would its disposal).
  return new ClosablePool({ connectionString: UNBOUND_URL, max: 1, min: 1, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: 'church-sms-tenant', options: UTC_SESSION_OPTIONS })
}

/** Points a pool that has opened no connection yet at its tenant's database. */
export function bindTenantPgPool (pool: pg.Pool, info: TenantConnectionInfo, extraIdleMs: number, onIdleError: (err: Error) => void): pg.Pool {
  if (pool.totalCount > 0 || pool.options.connectionString !== UNBOUND_URL) throw new Error('a tenant pg pool is bound once, before its first connection')
  pool.options.connectionString = info.url
  pool.options.idleTimeoutMillis = extraIdleMs
  // Without a listener, an idle connection dropped by the server would crash the process.
  pool.on('error', onIdleError)
  return pool
}

/** The default createClient: a tenant Prisma client over a pool the caller owns. */
export function createTenantPrismaClient (_info: TenantConnectionInfo, pool: pg.Pool): TenantPrismaClient {
  // PrismaPg leaves a pool it was given open on $disconnect (unless disposeExternalPool is set), so
  // the pool stays ours to count and to end exactly once.
  return new PrismaClient({ adapter: new PrismaPg(pool) })
}

/**
 * A miss costs a new PostgreSQL backend (fork, authentication, catalog caches: mostly server time)
 * and, for a Prisma client, building its query compiler (main-thread time). Started together, the
 * second overlaps the first; one after the other at the first query, they add up.
 */
export async function warmUpTenantClient (client: unknown, pool: pg.Pool): Promise<void> {
  const connect = (client as { $connect?: () => Promise<void> }).$connect
  // Held while $connect runs, without pg-pool's idle listener: a server dying meanwhile must not raise
  // an unhandled 'error' event (see withAdminClient); the dead connection is dropped on release.
  let broken: Error | undefined
  const onError = (error: Error): void => { broken ??= error }
  const opened = pool.connect().then((c) => { c.on('error', onError); return c })
  try {
    if (typeof connect === 'function') await connect.call(client)
  } finally {
    // Released to the pool for the first query; a failure to connect fails the build like a query would.
    const c = await opened
    c.removeListener('error', onError)
    c.release(broken)
  }
}

/** The default disposeClient: $disconnect when the client has one (the pool ends the pg pool itself). */
export async function disposeTenantClient (client: unknown): Promise<void> {
  const disconnect = (client as { $disconnect?: () => Promise<void> }).$disconnect
  if (typeof disconnect === 'function') await disconnect.call(client)
}
