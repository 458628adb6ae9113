// What a PostgreSQL server can do and how loaded it is, measured over one admin connection: used to
// refuse a server before it is recorded (unreachable, too old, under-privileged) and by `servers list`.
import { connect, describeServer, parseDatabaseUrl } from '../db/pg-admin.js'
import { ERRORS } from '../errors.js'

export const MIN_SERVER_VERSION = 140000

export interface ServerHealth {
  reachable: boolean
  error?: string
  version?: string
  versionNum?: number
  rttMs?: number
  connectionsUsed?: number
  connectionsAllowed?: number
  databaseCount?: number
  sizeBytes?: number
  /** What the admin role may do. */
  superuser?: boolean
  createDb?: boolean
  createRole?: boolean
  replication?: boolean
  /** `logical` lets a move keep writes open until its final catch-up. */
  walLevel?: string
  /** The URL's database is owned by the role and holds no tables (a BYOD server without CREATEDB). */
  ownsEmptyDatabase?: boolean
}

const PROBE_SQL = `
  SELECT current_setting('server_version') AS version, current_setting('server_version_num')::int AS version_num,
    current_setting('max_connections')::int AS max_connections, current_setting('wal_level') AS wal_level,
    (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS connections,
    (SELECT count(*) FROM pg_database WHERE NOT datistemplate)::int AS databases,
    (SELECT coalesce(sum(pg_database_size(oid)), 0) FROM pg_database WHERE has_database_privilege(oid, 'CONNECT'))::bigint AS size,
    r.rolsuper, r.rolcreatedb, r.rolcreaterole, r.rolreplication,
    (SELECT datdba = r.oid FROM pg_database WHERE datname = current_database()) AS owns_database,
    NOT EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                  AND n.nspname NOT LIKE 'pg_toast%') AS empty_database
  FROM pg_roles r WHERE r.rolname = current_user`

interface ProbeRow {
  version: string
  version_num: number
  max_connections: number
  wal_level: string
  connections: number
  databases: number
  size: string
  rolsuper: boolean
  rolcreatedb: boolean
  rolcreaterole: boolean
  rolreplication: boolean
  owns_database: boolean
  empty_database: boolean
}

/** Never throws: an unreachable server is a health result like any other. */
export async function probeServer (url: string): Promise<ServerHealth> {
  let client
  try {
    client = await connect(url, 'church-sms-probe')
  } catch (error) {
    return { reachable: false, error: (error as Error).message }
  }
  try {
    const started = performance.now()
    await client.query('SELECT 1')
    const rttMs = Math.round((performance.now() - started) * 100) / 100
    const { rows: [row] } = await client.query<ProbeRow>(PROBE_SQL)
    if (row === undefined) return { reachable: true, rttMs, error: 'the admin role was not found in pg_roles' }
    return {
      reachable: true,
      rttMs,
      version: row.version,
      versionNum: row.version_num,
      connectionsUsed: row.connections,
      connectionsAllowed: row.max_connections,
      databaseCount: row.databases,
      sizeBytes: Number(row.size),
      superuser: row.rolsuper,
      createDb: row.rolsuper || row.rolcreatedb,
      createRole: row.rolsuper || row.rolcreaterole,
      replication: row.rolsuper || row.rolreplication,
      walLevel: row.wal_level,
      ownsEmptyDatabase: row.owns_database && row.empty_database
    }
  } catch (error) {
    return { reachable: true, error: (error as Error).message }
  } finally {
    await client.end().catch(() => {})
  }
}

export type ServerUse = 'shared' | 'byod'

/**
 * The reason this server cannot hold tenant databases, or null. A shared or dedicated server needs
 * an admin that creates databases and roles (one role per tenant); a BYOD server holds one tenant,
 * so a role that creates a database, or owns an empty one, is enough.
 */
export function refusal (health: ServerHealth, use: ServerUse): string | null {
  if (!health.reachable) return `unreachable: ${health.error ?? 'no answer'}`
  if (health.error !== undefined) return health.error
  if ((health.versionNum ?? 0) < MIN_SERVER_VERSION) return `PostgreSQL ${health.version ?? 'unknown'} is too old: 14 or newer is required`
  if (use === 'shared') {
    if (health.createDb !== true) return 'the admin role cannot create databases (CREATEDB)'
    if (health.createRole !== true) return 'the admin role cannot create roles (CREATEROLE)'
    return null
  }
  if (health.createDb !== true && health.ownsEmptyDatabase !== true) return 'the role can neither create a database (CREATEDB) nor owns an empty one'
  return null
}

/** Probes and throws SERVER_REFUSED (400) with the reason; the URL itself never reaches the message. */
export async function assertUsableServer (url: string, use: ServerUse): Promise<ServerHealth> {
  let where: string
  try {
    where = describeServer(url)
    parseDatabaseUrl(url)
  } catch {
    throw new ERRORS.ServerRefused('the URL is not a postgres:// URL')
  }
  const health = await probeServer(url)
  const reason = refusal(health, use)
  // The driver's messages may quote the host but never the password; the URL is not repeated.
  if (reason !== null) throw new ERRORS.ServerRefused(`${where}: ${reason}`)
  return health
}
