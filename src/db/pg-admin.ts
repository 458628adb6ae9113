// Small helpers for administrative connections: URLs, identifiers that reach DDL, short-lived clients.
import pg from 'pg'
import { ERRORS } from '../errors.js'
import { ClosablePool } from './closable-pool.js'
import { createFifoGate, type FifoGate } from '../util/fifo-gate.js'
import { installScramKeyCache } from './scram-keys.js'

// Every connection this process opens (admin, fleet, tenant pool) logs in through pg's SCRAM code.
installScramKeyCache()

/** Columns are timestamp without time zone, written as UTC by Prisma: raw SQL's now() must agree. */
export const UTC_SESSION_OPTIONS = '-c TimeZone=UTC'

/** Start-up must fail fast on an unreachable server instead of hanging. */
export const CONNECT_TIMEOUT_MS = 5000

// Every database and role name we create matches this; anything else never reaches DDL.
const IDENTIFIER = /^[a-z][a-z0-9_]{0,62}$/

export function assertIdentifier (name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`refusing unsafe identifier "${name}"`)
  return name
}

export function quoteIdent (name: string): string {
  return pg.escapeIdentifier(assertIdentifier(name))
}

export function quoteLiteral (value: string): string {
  return pg.escapeLiteral(value)
}

export interface ConnectionParts {
  host: string
  port: number
  user: string
  password: string
  database: string
  params: string
}

export function parseDatabaseUrl (url: string): ConnectionParts {
  const u = new URL(url)
  return {
    host: u.hostname,
    port: u.port === '' ? 5432 : Number(u.port),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.replace(/^\//, '')) || 'postgres',
    params: u.search
  }
}

export function buildDatabaseUrl (parts: ConnectionParts): string {
  const auth = parts.user === '' ? '' : `${encodeURIComponent(parts.user)}${parts.password === '' ? '' : ':' + encodeURIComponent(parts.password)}@`
  return `postgres://${auth}${parts.host}:${parts.port}/${encodeURIComponent(parts.database)}${parts.params}`
}

/** The same server and credentials, another database. */
export function withDatabase (url: string, database: string): string {
  return buildDatabaseUrl({ ...parseDatabaseUrl(url), database })
}

/** Host and port only: safe for logs and error messages. */
export function describeServer (url: string): string {
  const { host, port } = parseDatabaseUrl(url)
  return `${host}:${port}`
}

export async function connect (url: string, applicationName = 'church-sms-admin'): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: applicationName })
  // An idle admin client whose server goes away must not crash the process.
  client.on('error', () => {})
  try {
    await client.connect()
  } catch (error) {
    await client.end().catch(() => {})
    throw new Error(`cannot connect to PostgreSQL at ${describeServer(url)}: ${(error as Error).message}`, { cause: error })
  }
  return client
}

// Sign-ups and the reconciler talk to each server's maintenance database often: a few kept-open
// connections per admin URL save a connection and its authentication on every provisioning step.
const ADMIN_CONNECTIONS = 4
// A burst of sign-ups queues for these connections (each clone holds one for tens of milliseconds);
// past this wait the caller gets PROVISIONING_BUSY (503) rather than a failure.
export const ADMIN_QUEUE_MS = 30_000
const adminPools = new Map<string, { pool: pg.Pool, gate: FifoGate }>()

export async function withAdminClient<T> (url: string, fn: (client: pg.PoolClient) => Promise<T>, options: { queueMs?: number } = {}): Promise<T> {
  let admin = adminPools.get(url)
  if (admin === undefined) {
    const pool = new ClosablePool({ connectionString: url, max: ADMIN_CONNECTIONS, idleTimeoutMillis: 30_000, allowExitOnIdle: true, connectionTimeoutMillis: CONNECT_TIMEOUT_MS, application_name: 'church-sms-admin' })
    pool.on('error', () => {})
    adminPools.set(url, admin = { pool, gate: createFifoGate(ADMIN_CONNECTIONS) })
  }
  if (!await admin.gate.enter(options.queueMs ?? ADMIN_QUEUE_MS)) throw new ERRORS.ProvisioningBusy()
  let client: pg.PoolClient
  try {
    client = await admin.pool.connect()
  } catch (error) {
    admin.gate.leave()
    throw new Error(`cannot connect to PostgreSQL at ${describeServer(url)}: ${(error as Error).message}`, { cause: error })
  }
  // pg-pool takes its idle 'error' listener off a client it hands out: a server that dies while the
  // caller is between statements (its backends send FATAL before they go) would then crash the
  // process with an unhandled 'error' event. The next statement fails and the client is dropped.
  let broken: Error | undefined
  const onError = (error: Error): void => { broken ??= error }
  client.on('error', onError)
  try {
    return await fn(client)
  } catch (error) {
    broken = error as Error
    throw error
  } finally {
    client.removeListener('error', onError)
    // A connection whose statement failed mid-way may hold session state: do not reuse it.
    client.release(broken)
    admin.gate.leave()
  }
}

/** Callers in and waiting for each server's admin connections (for tests and operators). */
export function adminQueueStats (url: string): { active: number, waiting: number } {
  return adminPools.get(url)?.gate.stats() ?? { active: 0, waiting: 0 }
}

export async function closeAdminPools (): Promise<void> {
  const admins = [...adminPools.values()]
  adminPools.clear()
  await Promise.all(admins.map(async ({ pool }) => { await pool.end().catch(() => {}) }))
}

export async function withClient<T> (url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = await connect(url)
  try {
    return await fn(client)
  } finally {
    await client.end().catch(() => {})
  }
}

export async function databaseExists (client: pg.ClientBase, name: string): Promise<boolean> {
  const result = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])
  return result.rowCount === 1
}

/** Creates a database unless it exists; concurrent callers may race, and the loser's error is ignored. */
export async function ensureDatabase (client: pg.ClientBase, name: string): Promise<void> {
  if (await databaseExists(client, name)) return
  try {
    await client.query(`CREATE DATABASE ${quoteIdent(name)}`)
  } catch (error) {
    // 42P04 duplicate_database, 23505 when two CREATEs race on pg_database's unique index
    const code = (error as { code?: string }).code
    if (code !== '42P04' && code !== '23505') throw error
  }
}
