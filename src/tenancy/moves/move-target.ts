// The tenant's new, empty database on the target server, at exactly the tenant's schema version:
// cloned from the server's template when that is the version, built by the migrator otherwise.
import type pg from 'pg'
import { connect, quoteIdent, withDatabase } from '../../db/pg-admin.js'
import { currentVersion, migrateUp, type Migration } from '../../db/migrator.js'
import { cloneTemplate, createTenantDatabase, type SchemaSource } from '../tenant-database.js'
import { grantTenantGroup } from '../template.js'

/** Builds the schema with the migrator, up to `version` only (a tenant not yet migrated stays as it is). */
export function migratedSchema (adminUrl: string, migrations: Migration[], version: string, grants = true): SchemaSource {
  return async (admin: pg.ClientBase, database: string) => {
    await admin.query(`CREATE DATABASE ${quoteIdent(database)}`)
    const client = await connect(withDatabase(adminUrl, database))
    try {
      await migrateUp(client, migrations.filter((m) => m.version <= version))
      if (grants) await grantTenantGroup(client)
    } finally {
      await client.end()
    }
  }
}

export async function createMoveTarget (opts: {
  adminUrl: string
  tenantId: string
  password: string
  installationId: string
  schemaVersion: string
  migrations: Migration[]
}): Promise<void> {
  const latest = opts.migrations.at(-1)?.version
  const schema = latest === opts.schemaVersion ? cloneTemplate : migratedSchema(opts.adminUrl, opts.migrations, opts.schemaVersion)
  await createTenantDatabase(opts.adminUrl, opts.tenantId, opts.password, opts.installationId, schema)
}

/** The schema version a database is at (its migrator history). */
export async function schemaVersionOf (db: Pick<pg.ClientBase, 'query'>): Promise<string> {
  return await currentVersion(db)
}
