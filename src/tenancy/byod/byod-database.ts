// A tenant's database on an organization's own PostgreSQL (BYOD). Its role may only create a database,
// or own an empty one: it cannot create roles, so the tenant connects as that role itself, and the
// schema is built by the migrator (a server holding one tenant keeps no template). Nothing here drops
// a role or a database the organization made.
import pg from 'pg'
import { connect, quoteIdent, quoteLiteral, withDatabase } from '../../db/pg-admin.js'
import { migrateUp, type Migration } from '../../db/migrator.js'
import { dropTenantDatabase, ownerMark, tenantDatabaseName } from '../tenant-database.js'

export interface ByodServer { adminDatabase: string, tenantDatabase: string | null }

/** The database a BYOD server holds the tenant in: the organization's own, or tenant_<id> made by its role. */
export function byodDatabaseName (server: ByodServer, tenantId: string): string {
  return server.tenantDatabase ?? tenantDatabaseName(tenantId)
}

// Relations, types and functions in the schemas a tenant schema uses: none may be there beforehand.
const OBJECTS_SQL = `
  SELECT 'relation' AS kind, n.nspname AS schema, c.relname AS name, c.relkind::text AS sub FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname IN ('public', 'migrator') AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  UNION ALL SELECT 'type', n.nspname, t.typname, t.typtype::text FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = 'public' AND t.typtype IN ('e', 'd')
  UNION ALL SELECT 'function', n.nspname, p.oid::regprocedure::text, '' FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = 'public'`

// Names read from the catalog of a database we filled ourselves; quoted, never interpolated raw.
const catalogName = (name: string): string => pg.escapeIdentifier(name)

async function objectsIn (client: Pick<pg.ClientBase, 'query'>): Promise<Array<{ kind: string, schema: string, name: string, sub: string }>> {
  return (await client.query<{ kind: string, schema: string, name: string, sub: string }>(OBJECTS_SQL)).rows
}

/**
 * Creates (or, given the organization's own database, fills) the tenant's database at `schemaVersion`
 * with the migrator and returns its name. The organization's database must still be empty.
 */
export async function createByodDatabase (opts: {
  adminUrl: string
  server: ByodServer
  tenantId: string
  installationId: string
  schemaVersion: string
  migrations: Migration[]
}): Promise<string> {
  const name = byodDatabaseName(opts.server, opts.tenantId)
  if (opts.server.tenantDatabase === null) {
    const admin = await connect(opts.adminUrl, 'church-sms-byod')
    try {
      const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])
      if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${quoteIdent(name)}`)
      // Marked as ours, so the orphan scan may drop it if nothing points at it; closed to others.
      await admin.query(`COMMENT ON DATABASE ${quoteIdent(name)} IS ${quoteLiteral(ownerMark(opts.installationId))}; REVOKE ALL ON DATABASE ${quoteIdent(name)} FROM PUBLIC`)
    } finally {
      await admin.end()
    }
  }
  const client = await connect(withDatabase(opts.adminUrl, name), 'church-sms-byod')
  try {
    const found = await objectsIn(client)
    // A retry after an undo that could not finish finds its own migrator history: that is fine.
    const foreign = found.filter((o) => o.schema !== 'migrator')
    const ours = found.some((o) => o.schema === 'migrator')
    if (!ours && foreign.length > 0) throw new Error(`database ${name} is not empty (${foreign.slice(0, 3).map((o) => `${o.kind} ${o.name}`).join(', ')})`)
    await migrateUp(client, opts.migrations.filter((m) => m.version <= opts.schemaVersion))
  } finally {
    await client.end()
  }
  return name
}

/**
 * Undoes createByodDatabase: tenant_<id> is dropped; the organization's own database is emptied of
 * what the migrator made (tables, types and functions in public, the migrator schema) and kept.
 */
export async function removeByodDatabase (adminUrl: string, server: ByodServer, tenantId: string): Promise<void> {
  const name = byodDatabaseName(server, tenantId)
  if (server.tenantDatabase === null) {
    const admin = await connect(adminUrl, 'church-sms-byod')
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`)
    } finally {
      await admin.end()
    }
    return
  }
  const client = await connect(withDatabase(adminUrl, name), 'church-sms-byod')
  try {
    const found = await objectsIn(client)
    const drops = [
      'DROP SCHEMA IF EXISTS migrator CASCADE',
      ...found.filter((o) => o.schema === 'public' && o.kind === 'relation' && o.sub !== 'S').map((o) => `DROP ${o.sub === 'v' ? 'VIEW' : o.sub === 'm' ? 'MATERIALIZED VIEW' : o.sub === 'f' ? 'FOREIGN TABLE' : 'TABLE'} IF EXISTS public.${catalogName(o.name)} CASCADE`),
      ...found.filter((o) => o.schema === 'public' && o.kind === 'relation' && o.sub === 'S').map((o) => `DROP SEQUENCE IF EXISTS public.${catalogName(o.name)} CASCADE`),
      ...found.filter((o) => o.kind === 'type').map((o) => `DROP TYPE IF EXISTS public.${catalogName(o.name)} CASCADE`),
      // regprocedure text is already a quoted, schema-qualified signature from the catalog.
      ...found.filter((o) => o.kind === 'function').map((o) => `DROP FUNCTION IF EXISTS ${o.name} CASCADE`)
    ]
    await client.query(['BEGIN', ...drops, 'COMMIT'].join('; '))
  } finally {
    await client.end()
  }
}

/** The database holding `tenantId` on `server`, whatever its kind. */
export function tenantDatabaseOn (server: { kind: string } & ByodServer, tenantId: string): string {
  return server.kind === 'BYOD' ? byodDatabaseName(server, tenantId) : tenantDatabaseName(tenantId)
}

/** Drops the tenant's database on `server`: with its role on our servers, never a role on a BYOD one. */
export async function dropTenantDatabaseOn (server: { kind: string } & ByodServer, adminUrl: string, tenantId: string): Promise<void> {
  if (server.kind === 'BYOD') await removeByodDatabase(adminUrl, server, tenantId)
  else await dropTenantDatabase(adminUrl, tenantId)
}
