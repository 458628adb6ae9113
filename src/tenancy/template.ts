// Each server keeps `tenant_template` at the newest tenant schema; new tenants are clones of it.
// Upgrading the template takes an exclusive advisory lock and cloning a shared one, both in the
// server's maintenance database, so a clone never copies a half-migrated template.
import type pg from 'pg'
import { connect, ensureDatabase, quoteIdent, withDatabase } from '../db/pg-admin.js'
import { migrateUp, type Migration } from '../db/migrator.js'

export const TEMPLATE_DATABASE = 'tenant_template'
const TEMPLATE_LOCK = 'tenant_template'

/**
 * Every tenant role is a member of this group, which holds the table privileges inside the template, so
 * clones arrive already granted. A role still reaches only its own database: CONNECT is the boundary.
 */
export const TENANT_GROUP_ROLE = 'church_tenants'

const GROUP_GRANTS = `
  GRANT USAGE ON SCHEMA public TO ${TENANT_GROUP_ROLE};
  GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES ON ALL TABLES IN SCHEMA public TO ${TENANT_GROUP_ROLE};
  GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO ${TENANT_GROUP_ROLE};
  GRANT USAGE ON SCHEMA migrator TO ${TENANT_GROUP_ROLE};
  GRANT SELECT ON ALL TABLES IN SCHEMA migrator TO ${TENANT_GROUP_ROLE};
  ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES ON TABLES TO ${TENANT_GROUP_ROLE};
  ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ${TENANT_GROUP_ROLE};`

/** Grants the group its privileges in one database (the template, or a tenant after a migration). */
export async function grantTenantGroup (client: pg.ClientBase): Promise<void> {
  await client.query(GROUP_GRANTS)
}

/** The same grants as SQL, to run inside another transaction. */
export const grantTenantGroupSql = (): string => GROUP_GRANTS

async function ensureGroupRole (admin: pg.ClientBase): Promise<void> {
  try {
    await admin.query(`CREATE ROLE ${TENANT_GROUP_ROLE} NOLOGIN`)
  } catch (error) {
    // 42710 duplicate_object: it exists (or a concurrent start created it first).
    if ((error as { code?: string }).code !== '42710' && (error as { code?: string }).code !== '23505') throw error
  }
}

export interface TemplateStatus { version: string, applied: string[] }

export async function withTemplateLock<T> (admin: pg.ClientBase, mode: 'exclusive' | 'shared', fn: () => Promise<T>): Promise<T> {
  const suffix = mode === 'shared' ? '_shared' : ''
  await admin.query(`SELECT pg_advisory_lock${suffix}(hashtext($1))`, [TEMPLATE_LOCK])
  try {
    return await fn()
  } finally {
    await admin.query(`SELECT pg_advisory_unlock${suffix}(hashtext($1))`, [TEMPLATE_LOCK])
  }
}

/**
 * Creates the template if missing and migrates it in place; returns its schema version. With
 * `migrate: false` it only makes sure the template exists (fleet commands move it themselves).
 */
export async function ensureTemplate (adminUrl: string, migrations: Migration[], options: { migrate?: boolean } = {}): Promise<TemplateStatus> {
  const admin = await connect(adminUrl)
  try {
    return await withTemplateLock(admin, 'exclusive', async () => {
      await ensureGroupRole(admin)
      await ensureDatabase(admin, TEMPLATE_DATABASE)
      // Nobody but the platform connects to the template; clones get their own grants.
      await admin.query(`REVOKE ALL ON DATABASE ${quoteIdent(TEMPLATE_DATABASE)} FROM PUBLIC`)
      const client = await connect(withDatabase(adminUrl, TEMPLATE_DATABASE))
      let result
      try {
        result = options.migrate === false ? await migrateUp(client, [], { allowUnknown: true }) : await migrateUp(client, migrations)
        await grantTenantGroup(client)
        // Every clone copies the template page by page: compacting it after DDL (whose catalog
        // updates leave dead rows) makes each copy smaller, and freezing it spares each of
        // thousands of clones its own anti-wraparound vacuum of the same rows later.
        if (result.applied.length > 0) await client.query('VACUUM (FULL, FREEZE)')
      } finally {
        await client.end()
      }
      await admin.query(`ALTER DATABASE ${quoteIdent(TEMPLATE_DATABASE)} WITH IS_TEMPLATE true`)
      return { version: result.version, applied: result.applied }
    })
  } finally {
    await admin.end()
  }
}
